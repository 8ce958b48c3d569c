using System.ComponentModel;
using System.Diagnostics;
using Uet.Config;

namespace Uet.Execution.Adapters;

/// <summary>One adapter as <c>uet doctor</c> sees it: enabled or not, its program, where that is, its version.</summary>
/// <param name="Name">The adapter's name, as workstreams and the config spell it.</param>
/// <param name="Enabled">Whether <c>adapters.enabled</c> lists it.</param>
/// <param name="Program">What the adapter runs (a name or an absolute path); null for adapters without a program of their own.</param>
/// <param name="Path">Where the program was found; null when it was not.</param>
/// <param name="Version">The first line the program printed for <c>--version</c>; null when it printed none.</param>
/// <param name="Error">Why the version could not be read (it did not start, failed, or timed out).</param>
public sealed record ToolStatus(string Name, bool Enabled, string? Program, string? Path, string? Version, string? Error)
{
    /// <summary>The adapter can run here: nothing to install, or its program was found.</summary>
    public bool Installed => Program is null || Path is not null;
}

/// <summary>Which tools are installed and their versions: the machine half of <c>uet doctor</c>.</summary>
public static class ToolCheck
{
    private static readonly TimeSpan VersionTimeout = TimeSpan.FromSeconds(30);

    public static async Task<IReadOnlyList<ToolStatus>> CheckAsync(UetConfig config, CancellationToken cancellationToken)
    {
        var registry = new AdapterRegistry(config);
        var checks = AdapterRegistry.All.Select(adapter => CheckAsync(adapter, registry.ToolConfig(adapter.Name), config.Adapters.Enabled.Contains(adapter.Name), cancellationToken));
        return await Task.WhenAll(checks).ConfigureAwait(false);
    }

    private static async Task<ToolStatus> CheckAsync(ToolAdapter adapter, ConfigMapping toolConfig, bool enabled, CancellationToken cancellationToken)
    {
        var program = adapter.Program(toolConfig);
        if (program is null)
        {
            return new ToolStatus(adapter.Name, enabled, null, null, null, null);
        }

        var path = ProgramLocator.Find(program, adapter.SearchPath(toolConfig));
        if (path is null)
        {
            return new ToolStatus(adapter.Name, enabled, program, null, null, null);
        }

        var (version, error) = await VersionAsync(path, cancellationToken).ConfigureAwait(false);
        return new ToolStatus(adapter.Name, enabled, program, path, version, error);
    }

    /// <summary>Runs <c>program --version</c>: the first line of its output (stdout, else stderr), or why there is none.</summary>
    public static async Task<(string? Version, string? Error)> VersionAsync(string path, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(path)
        {
            ArgumentList = { "--version" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.Environment["NO_COLOR"] = "1";
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            return (null, $"cannot start {path}: {ex.Message}");
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(VersionTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            return (null, $"{path} --version did not answer within {VersionTimeout.TotalSeconds:0} s");
        }

        var output = await stdout.ConfigureAwait(false);
        var errors = await stderr.ConfigureAwait(false);
        var line = FirstLine(output) ?? LastLine(errors);
        return process.ExitCode == 0
            ? (line, null)
            : (null, $"{path} --version failed (exit code {process.ExitCode}){(line is null ? string.Empty : ": " + line)}");
    }

    private static string? FirstLine(string text) => text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0);

    private static string? LastLine(string text) => text.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0);
}
