namespace AuditStream.Privacy.Detection;

/// <summary>
/// A payment card number: 13–19 digits, contiguous or in groups split by one kind of separator (space or hyphen), whose
/// first digit is 2–6 (the major networks' IIN ranges: Mastercard 2/5, Amex/Diners/JCB 3, Visa 4, Discover/UnionPay 6)
/// and which passes the Luhn check (ISO/IEC 7812-1). The first digit rule keeps millisecond and nanosecond Unix times
/// (which start with 1) out. When grouped digits run on (a card followed by an expiry year), the longest group-aligned
/// prefix that qualifies is taken.
/// </summary>
internal static class CardDetector
{
    private const int MinDigits = 13;
    private const int MaxDigits = 19;

    public static int Match(ReadOnlySpan<byte> text, int start)
    {
        if (text[start] is < (byte)'2' or > (byte)'6')
        {
            return 0;
        }

        Span<byte> digits = stackalloc byte[MaxDigits];
        Span<int> groupEnds = stackalloc int[MaxDigits];
        Span<int> groupDigits = stackalloc int[MaxDigits];
        var count = 0;
        var groups = 0;
        byte separator = 0;
        var i = start;
        while (true)
        {
            while (i < text.Length && Ascii.IsDigit(text[i]))
            {
                if (count == MaxDigits)
                {
                    // A run of more than 19 digits within a group: a longer number, not a card.
                    return groups == 0 ? 0 : Longest(digits, groupEnds, groupDigits, groups, start);
                }

                digits[count++] = (byte)(text[i++] - '0');
            }

            groupEnds[groups] = i;
            groupDigits[groups++] = count;
            if (i + 1 < text.Length && text[i] is (byte)' ' or (byte)'-' && (separator == 0 || text[i] == separator) && Ascii.IsDigit(text[i + 1]) && count < MaxDigits)
            {
                separator = text[i];
                i++;
                continue;
            }

            break;
        }

        // The run must end the word: digits glued to letters are an identifier.
        if (i < text.Length && Ascii.IsLetter(text[i]))
        {
            return 0;
        }

        return Longest(digits, groupEnds, groupDigits, groups, start);
    }

    private static int Longest(ReadOnlySpan<byte> digits, ReadOnlySpan<int> groupEnds, ReadOnlySpan<int> groupDigits, int groups, int start)
    {
        for (var g = groups - 1; g >= 0; g--)
        {
            var n = groupDigits[g];
            if (n is >= MinDigits and <= MaxDigits && Luhn.IsValid(digits[..n]))
            {
                return groupEnds[g] - start;
            }
        }

        return 0;
    }
}

/// <summary>The Luhn (mod 10) check of ISO/IEC 7812-1.</summary>
internal static class Luhn
{
    public static bool IsValid(ReadOnlySpan<byte> digits)
    {
        var sum = 0;
        var doubled = false;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var d = digits[i];
            if (doubled)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
            doubled = !doubled;
        }

        return sum % 10 == 0;
    }
}
