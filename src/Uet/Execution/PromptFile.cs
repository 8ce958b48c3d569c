using System.Text;
using Uet.Workstreams;

namespace Uet.Execution;

/// <summary>The prompt a tool gets for one attempt: tasks, scope and acceptance criteria, in Markdown.</summary>
public static class PromptFile
{
    public static string Render(Workstream workstream, int attempt, string? previousError)
    {
        var sb = new StringBuilder();
        sb.Append("# Workstream ").AppendLine(workstream.Id).AppendLine();
        Section(sb, "Tasks", workstream.Tasks);
        Section(sb, "You may modify only these paths", workstream.FilesScope);
        Section(sb, "You may create these paths", workstream.FilesCreate);
        Section(sb, "Acceptance", workstream.AcceptanceTests.Select(t => t.Description ?? "run: " + string.Join(' ', t.Run ?? [])));
        if (attempt > 1 && previousError is not null)
        {
            sb.Append("## Attempt ").Append(attempt).AppendLine(": the previous attempt failed").AppendLine().AppendLine("```").AppendLine(previousError).AppendLine("```");
        }

        return sb.ToString();
    }

    private static void Section(StringBuilder sb, string title, IEnumerable<string> lines)
    {
        var items = lines.ToList();
        if (items.Count == 0)
        {
            return;
        }

        sb.Append("## ").AppendLine(title).AppendLine();
        foreach (var line in items)
        {
            sb.Append("- ").AppendLine(line);
        }

        sb.AppendLine();
    }
}
