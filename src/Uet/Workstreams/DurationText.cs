using System.Globalization;
using System.Text;

namespace Uet.Workstreams;

/// <summary>Durations as users write them: <c>90</c> (seconds), <c>"45s"</c>, <c>"30m"</c>, <c>"1h30m"</c>, <c>"2d"</c>.</summary>
public static class DurationText
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        text = text.Trim();
        if (text.Length == 0)
        {
            return false;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return TryFromSeconds(seconds, out value);
        }

        var total = 0.0;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }

            if (start == i || i == text.Length
                || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var amount))
            {
                return false;
            }

            var unit = text[i++];
            total += unit switch
            {
                's' => amount,
                'm' => amount * 60,
                'h' => amount * 3600,
                'd' => amount * 86400,
                _ => double.NaN,
            };
            while (i < text.Length && text[i] == ' ')
            {
                i++;
            }
        }

        return TryFromSeconds(total, out value);
    }

    public static bool TryFromSeconds(double seconds, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (double.IsNaN(seconds) || seconds < 0 || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return false;
        }

        value = TimeSpan.FromSeconds(seconds);
        return true;
    }

    /// <summary>Short human form: <c>1h 30m</c>, <c>45s</c>, <c>2d 3h</c>.</summary>
    public static string Format(TimeSpan value)
    {
        if (value < TimeSpan.FromSeconds(1))
        {
            return "0s";
        }

        var sb = new StringBuilder();
        void Part(long amount, string unit)
        {
            if (amount > 0)
            {
                if (sb.Length > 0)
                {
                    sb.Append(' ');
                }

                sb.Append(amount.ToString(CultureInfo.InvariantCulture)).Append(unit);
            }
        }

        Part((long)value.TotalDays, "d");
        Part(value.Hours, "h");
        Part(value.Minutes, "m");
        if (value < TimeSpan.FromHours(1))
        {
            Part(value.Seconds, "s");
        }

        return sb.ToString();
    }
}
