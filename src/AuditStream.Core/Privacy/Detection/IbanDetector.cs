namespace AuditStream.Privacy.Detection;

/// <summary>
/// An IBAN (ISO 13616): a country code from the SWIFT IBAN registry, two check digits and a BBAN of the country's length,
/// upper case, compact or printed in groups of four split by single spaces, passing the ISO 7064 mod-97-10 check.
/// </summary>
internal static class IbanDetector
{
    private const int MaxLength = 34;

    // SWIFT IBAN registry (release 98, 2024): country code and total length.
    private const string Registry =
        "AD24AE23AL28AT20AZ28BA20BE16BG22BH22BI27BR29BY28CH21CR22CY28CZ24DE22DJ27DK18DO28EE20EG29ES24FI18FK18FO18FR27" +
        "GB22GE22GI23GL18GR27GT28HN28HR21HU28IE22IL23IQ23IS26IT27JO30KW30KZ20LB28LC32LI21LT20LU20LV21LY25MC27MD24ME22" +
        "MK19MN20MR27MT31MU30NI28NL18NO15OM23PK24PL28PS29PT25QA29RO24RS22RU33SA24SC31SD18SE24SI19SK24SM27SO23ST25SV28" +
        "TL23TN24TR26UA29VA22VG24XK20YE30";

    private static readonly byte[] s_lengths = BuildLengths();

    /// <summary>The registered length of IBANs of the country <paramref name="first"/><paramref name="second"/>, or 0.</summary>
    public static int LengthOf(byte first, byte second) =>
        Ascii.IsUpper(first) && Ascii.IsUpper(second) ? s_lengths[((first - 'A') * 26) + (second - 'A')] : 0;

    public static int Match(ReadOnlySpan<byte> text, int start)
    {
        if (start + 4 > text.Length || !Ascii.IsDigit(text[start + 2]) || !Ascii.IsDigit(text[start + 3]))
        {
            return 0;
        }

        var length = LengthOf(text[start], text[start + 1]);
        if (length == 0)
        {
            return 0;
        }

        Span<byte> iban = stackalloc byte[MaxLength];
        var count = 0;
        var i = start;
        while (count < length && i < text.Length)
        {
            var b = text[i];
            if (Ascii.IsUpper(b) || Ascii.IsDigit(b))
            {
                iban[count++] = b;
                i++;
            }
            else if (b == ' ' && count % 4 == 0 && i + 1 < text.Length && text[i + 1] != ' ')
            {
                i++;
            }
            else
            {
                break;
            }
        }

        if (count != length || (i < text.Length && Ascii.IsLetterOrDigit(text[i])))
        {
            return 0;
        }

        return IsValid(iban[..count]) ? i - start : 0;
    }

    /// <summary>ISO 7064 mod-97-10 over the IBAN with its first four characters moved to the end, letters as 10–35.</summary>
    public static bool IsValid(ReadOnlySpan<byte> iban)
    {
        var remainder = 0;
        for (var k = 0; k < iban.Length; k++)
        {
            var b = iban[(k + 4) % iban.Length];
            remainder = Ascii.IsDigit(b)
                ? ((remainder * 10) + (b - '0')) % 97
                : ((remainder * 100) + (b - 'A' + 10)) % 97;
        }

        return remainder == 1;
    }

    private static byte[] BuildLengths()
    {
        var lengths = new byte[26 * 26];
        for (var i = 0; i < Registry.Length; i += 4)
        {
            lengths[((Registry[i] - 'A') * 26) + (Registry[i + 1] - 'A')] = (byte)int.Parse(Registry.AsSpan(i + 2, 2), System.Globalization.CultureInfo.InvariantCulture);
        }

        return lengths;
    }
}
