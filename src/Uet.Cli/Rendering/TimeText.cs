using System.Globalization;
using Uet.Workstreams;

namespace Uet.Cli.Rendering;

/// <summary>Times as people read them in tables.</summary>
internal static class TimeText
{
    public static string Time(DateTimeOffset? value) =>
        value?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";

    public static string Ago(TimeSpan span) => DurationText.Format(span < TimeSpan.Zero ? TimeSpan.Zero : span);
}
