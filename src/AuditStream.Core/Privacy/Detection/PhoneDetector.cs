namespace AuditStream.Privacy.Detection;

/// <summary>
/// A phone number. International: <c>+</c> and 8–15 digits (E.164), optionally grouped by spaces, hyphens, dots or a
/// parenthesised group. National: 9–12 digits in at least two groups split by one kind of separator (space, hyphen or
/// dot), the first group of at most five digits (or parenthesised: <c>(555) 123-4567</c>), the others of two to eight.
/// To keep plain numbers out, a national number needs a separator (a bare digit run — a seq, a Unix time — never
/// matches), two dot-separated groups are a decimal, and groups of exactly three after the first are a grouped amount
/// (<c>1 234 567 890</c>, <c>12.345.678</c>); a date has at most eight digits.
/// </summary>
internal static class PhoneDetector
{
    private const int MaxE164 = 15;
    private const int MinE164 = 8;
    private const int MinNational = 9;
    private const int MaxNational = 12;

    public static int Match(ReadOnlySpan<byte> text, int start)
    {
        var international = text[start] == '+';
        var i = international ? start + 1 : start;
        var digits = 0;
        var groups = 0;
        var firstGroup = 0;
        var largestGroup = 0;
        var smallestLaterGroup = int.MaxValue;
        var allThreesAfterFirst = true;
        var parenthesised = false;
        byte separator = 0;
        var end = i;
        while (i < text.Length && digits <= MaxE164)
        {
            var open = text[i] == '(';
            if (open)
            {
                if (groups > 0 && !international)
                {
                    break;
                }

                i++;
            }

            var groupStart = i;
            while (i < text.Length && Ascii.IsDigit(text[i]) && digits <= MaxE164)
            {
                i++;
                digits++;
            }

            var group = i - groupStart;
            if (group == 0)
            {
                return 0;
            }

            if (open)
            {
                if (i >= text.Length || text[i] != ')')
                {
                    return 0;
                }

                i++;
                parenthesised = true;
            }

            groups++;
            end = i;
            firstGroup = groups == 1 ? group : firstGroup;
            largestGroup = Math.Max(largestGroup, group);
            smallestLaterGroup = groups == 1 ? smallestLaterGroup : Math.Min(smallestLaterGroup, group);
            allThreesAfterFirst &= groups == 1 || group == 3;

            // After ")" a space or nothing may follow; elsewhere one separator, the same throughout a national number.
            if (i < text.Length && text[i] is (byte)' ' or (byte)'-' or (byte)'.')
            {
                var sep = text[i];
                var next = i + 1 < text.Length ? text[i + 1] : (byte)0;
                if (!(Ascii.IsDigit(next) || (international && next == '(')))
                {
                    break;
                }

                if (!international && !open && separator != 0 && sep != separator)
                {
                    break;
                }

                if (!international && !open)
                {
                    separator = sep;
                }

                i++;
                continue;
            }

            if (i < text.Length && (Ascii.IsDigit(text[i]) || text[i] == '('))
            {
                continue;
            }

            break;
        }

        if (end < text.Length && (Ascii.IsLetterOrDigit(text[end]) || text[end] == '@'))
        {
            return 0;
        }

        if (international)
        {
            return digits is >= MinE164 and <= MaxE164 ? end - start : 0;
        }

        if (digits is < MinNational or > MaxNational || groups < 2 || largestGroup > 8 || smallestLaterGroup < 2 || (firstGroup > 5 && !parenthesised))
        {
            return 0;
        }

        if ((separator == '.' && groups == 2) || (allThreesAfterFirst && firstGroup <= 3 && !parenthesised))
        {
            return 0;
        }

        return end - start;
    }
}
