using System.Globalization;

namespace CsiHostPath.Volumes;

/// <summary>
/// A byte count written as a Kubernetes resource quantity (k8s.io/apimachinery resource.Quantity): plain bytes,
/// binary suffixes Ki Mi Gi Ti Pi Ei, decimal suffixes m k M G T P E, or an exponent (1e9). A fraction is rounded up to
/// a whole byte, as Quantity.Value() does. Volume attributes and size flags both read sizes this way.
/// </summary>
public static class Quantity
{
    public const string Form = "a Kubernetes quantity of bytes such as 64Mi, 1Gi, 500M or 1073741824";

    private static readonly (string Suffix, decimal Factor)[] Suffixes =
    [
        ("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("Ti", 1L << 40), ("Pi", 1L << 50), ("Ei", 1L << 60),
        ("m", 0.001m), ("k", 1_000m), ("M", 1_000_000m), ("G", 1_000_000_000m), ("T", 1_000_000_000_000m),
        ("P", 1_000_000_000_000_000m), ("E", 1_000_000_000_000_000_000m),
    ];

    /// <summary>Reads a non-negative byte count; false for anything else, a negative or one beyond a long.</summary>
    public static bool TryParseBytes(string text, out long bytes)
    {
        bytes = 0;
        if (text.Length == 0 || text.Length > 64)
            return false;
        int numberEnd = 0;
        while (numberEnd < text.Length && (char.IsAsciiDigit(text[numberEnd]) || text[numberEnd] is '.' or '+' or '-'))
            numberEnd++;
        if (!TryParseNumber(text[..numberEnd], out decimal number) || !TryFactor(text[numberEnd..], out decimal factor))
            return false;
        try
        {
            decimal value = decimal.Ceiling(number * factor);
            if (value < 0 || value > long.MaxValue)
                return false;
            bytes = (long)value;
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    // One optional sign, digits, at most one point with digits on at least one side: apimachinery's <signedNumber>.
    private static bool TryParseNumber(string number, out decimal value) =>
        decimal.TryParse(number, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value)
        && number.Any(char.IsAsciiDigit);

    private static bool TryFactor(string suffix, out decimal factor)
    {
        factor = 1;
        if (suffix.Length == 0)
            return true;
        foreach (var (name, value) in Suffixes)
        {
            if (suffix == name)
            {
                factor = value;
                return true;
            }
        }
        // <decimalExponent>: e or E and a signed integer; large exponents are refused before they overflow.
        if (suffix[0] is 'e' or 'E' && int.TryParse(suffix[1..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int exponent)
            && suffix[1..].All(c => char.IsAsciiDigit(c) || c is '+' or '-') && exponent is >= -18 and <= 18)
        {
            for (int i = 0; i < Math.Abs(exponent); i++)
                factor = exponent > 0 ? factor * 10 : factor / 10;
            return true;
        }
        return false;
    }
}
