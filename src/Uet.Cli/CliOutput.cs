using Spectre.Console;

namespace Uet.Cli;

/// <summary>Where commands write: a Spectre console for people, and the raw writers for machine formats.</summary>
internal sealed class CliOutput
{
    public CliOutput(TextWriter stdout, TextWriter stderr)
    {
        Out = stdout;
        Error = stderr;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout),
            Ansi = ReferenceEquals(stdout, System.Console.Out) && !System.Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null
                ? AnsiSupport.Detect
                : AnsiSupport.No,
            ColorSystem = ColorSystemSupport.Detect,
        });
        if (!ReferenceEquals(stdout, System.Console.Out) || System.Console.IsOutputRedirected)
        {
            // Piped output is read by programs and people in wide logs: do not wrap tables at 80 columns.
            Console.Profile.Width = 160;
        }
    }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    public IAnsiConsole Console { get; }

    /// <summary>Writes a JSON document (UTF-8, unmarked by the console's styling) and a final newline.</summary>
    public void WriteJson(Action<Stream> write)
    {
        using var buffer = new MemoryStream();
        write(buffer);
        Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        Out.Flush();
    }
}
