using Uet.Config;
using Uet.State;

namespace Uet.Cli.Commands;

/// <summary>
/// A run goes on with the config it started with: <c>uet run</c> records the config file's text with the run, and a
/// resume (or a run continuing an unfinished one) uses that text rather than the file as it is now.
/// </summary>
internal static class RecordedConfig
{
    /// <summary>The text of a config file, '' when there is none (the defaults).</summary>
    public static string Read(string path) => File.Exists(path) ? File.ReadAllText(path) : string.Empty;

    /// <summary>The config recorded for <paramref name="runId"/>, or <paramref name="fromFile"/> for a run recorded without one.</summary>
    public static async Task<UetConfig> ForRunAsync(StateStore store, string runId, UetConfig fromFile, string fileText, TextWriter notes)
    {
        var recorded = await store.RunConfigAsync(runId, CancellationToken.None).ConfigureAwait(false);
        if (recorded is null)
        {
            return fromFile;
        }

        if (recorded != fileText)
        {
            await notes.WriteLineAsync($"uet: run {runId} goes on with the config it started with; the config file has changed since (a new run would use it).").ConfigureAwait(false);
        }

        return ConfigLoader.Parse(recorded, $"the config recorded for run {runId}");
    }
}
