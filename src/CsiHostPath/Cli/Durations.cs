using System.Globalization;

namespace CsiHostPath.Cli;

/// <summary>Durations as the kubernetes-csi sidecars' flags write them (30s, 2m, 500ms), or plain seconds.</summary>
public static class Durations
{
    private static readonly (string Suffix, double Seconds)[] Units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)];

    public static bool TryParse(string text, out TimeSpan duration)
    {
        foreach (var (suffix, seconds) in Units)
        {
            // "ms" is tried before "s" and "m", so "500ms" is not read as 500m followed by an s.
            if (text.EndsWith(suffix, StringComparison.Ordinal) && TryNumber(text[..^suffix.Length], seconds, out duration))
                return true;
        }
        return TryNumber(text, 1, out duration);
    }

    private static bool TryNumber(string number, double unitSeconds, out TimeSpan duration)
    {
        duration = default;
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || value < 0)
            return false;
        duration = TimeSpan.FromSeconds(value * unitSeconds);
        return true;
    }
}
