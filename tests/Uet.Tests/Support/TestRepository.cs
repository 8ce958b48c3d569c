using Microsoft.Data.Sqlite;

namespace Uet.Tests.Support;

/// <summary>
/// A real git repository in a temp folder with one commit on <c>main</c> (README.md), optionally <c>uet init</c>-ed,
/// and plain reads of its state database, as sqlite3 would do them.
/// </summary>
internal static class TestRepository
{
    public static void Create(string folder, bool init)
    {
        Directory.CreateDirectory(folder);
        CliRunner.Git(folder, "init", "-q", "-b", "main");
        File.WriteAllText(Path.Combine(folder, "README.md"), "base\n");
        CliRunner.Git(folder, "add", ".");
        CliRunner.Git(folder, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base");
        if (init)
        {
            var result = CliRunner.Uet(folder, "init");
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException("uet init failed: " + result);
            }
        }
    }

    /// <summary>Runs a statement on a database file with a plain connection (a trigger that injects a failure, say).</summary>
    public static void Execute(string databasePath, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>One value from the state database (.state/uet.db), as text; empty for no row or NULL.</summary>
    public static string Scalar(string folder, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(folder, ".state", "uet.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
    }

    /// <summary>
    /// How many runs, tasks, steps, workers and patches have a state other than the to_state of their own last event:
    /// 0 when state and events never disagree.
    /// </summary>
    public static int StatesDisagreeingWithEvents(string folder) =>
        new[] { ("runs", "run_id", "run"), ("tasks", "task_id", "task"), ("steps", "step_id", "step"), ("workers", "worker_id", "worker"), ("patches", "patch_id", "patch") }
            .Sum(t => int.Parse(Scalar(folder,
                $"SELECT COUNT(*) FROM {t.Item1} x WHERE x.state <> (SELECT to_state FROM events e WHERE e.entity = '{t.Item3}' AND e.entity_id = x.{t.Item2} ORDER BY event_id DESC LIMIT 1)"),
                System.Globalization.CultureInfo.InvariantCulture));
}
