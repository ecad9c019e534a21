using System.Buffers;

namespace AuditStream.Privacy.Detection;

/// <summary>
/// Finds personal data in UTF-8 text in one left-to-right pass without regular expressions: it jumps (vectorised) to the
/// next byte that can anchor a detection (a digit, <c>@</c> or <c>:</c>), tries the detectors at the start of the word
/// holding it, and otherwise skips the word. Every detector reads a bounded number of bytes, so a scan is linear in the
/// text; text with no anchor byte costs one vectorised search.
/// </summary>
internal static class PiiScanner
{
    private static readonly SearchValues<byte> s_anchors = SearchValues.Create("0123456789@:"u8);

    /// <summary>True when <paramref name="text"/> holds a byte every detection needs one of.</summary>
    public static bool MayContain(ReadOnlySpan<byte> text) => text.ContainsAny(s_anchors);

    /// <summary>
    /// The next detection that starts at or after <paramref name="position"/>; on success <paramref name="position"/> moves
    /// past it, so calling again finds the next one. Detections never overlap.
    /// </summary>
    public static bool TryFindNext(ReadOnlySpan<byte> text, ref int position, out PiiMatch match)
    {
        var floor = position;
        var i = position;
        var lastWord = -1;
        while (i < text.Length)
        {
            var offset = text[i..].IndexOfAny(s_anchors);
            if (offset < 0)
            {
                break;
            }

            var anchor = i + offset;
            if (text[anchor] == '@')
            {
                if (EmailDetector.Match(text, anchor, floor, out var start, out var end))
                {
                    match = new PiiMatch(PiiKind.Email, start, end - start);
                    position = end;
                    return true;
                }

                i = anchor + 1;
                continue;
            }

            // The detectors start at the beginning of the word holding the anchor (an IBAN's country, an IPv6 group).
            var word = anchor;
            while (word > floor && Ascii.IsLetterOrDigit(text[word - 1]))
            {
                word--;
            }

            if (word != lastWord)
            {
                lastWord = word;
                if (MatchAt(text, word, floor, out match))
                {
                    position = match.End;
                    return true;
                }
            }

            i = anchor + 1;
            while (i < text.Length && Ascii.IsLetterOrDigit(text[i]))
            {
                i++;
            }
        }

        match = default;
        position = text.Length;
        return false;
    }

    private static bool MatchAt(ReadOnlySpan<byte> text, int word, int floor, out PiiMatch match)
    {
        var first = text[word];
        int length;
        if ((Ascii.IsHexDigit(first) || first == ':') && (length = IpDetector.MatchV6(text, word)) > 0)
        {
            match = new PiiMatch(PiiKind.Ip, word, length);
            return true;
        }

        if (Ascii.IsDigit(first) && (length = IpDetector.MatchV4(text, word)) > 0)
        {
            match = new PiiMatch(PiiKind.Ip, word, length);
            return true;
        }

        if (Ascii.IsUpper(first) && (length = IbanDetector.Match(text, word)) > 0)
        {
            match = new PiiMatch(PiiKind.Iban, word, length);
            return true;
        }

        // A phone number may open with '+' or '(' just before the word; digits after '+' are never a card.
        var start = word > floor && text[word - 1] is (byte)'+' or (byte)'(' && (word - 1 == 0 || !Ascii.IsLetterOrDigit(text[word - 2])) ? word - 1 : word;

        // Cards need 13 digits and phone numbers 8: most numbers in text (counts, dates, versions) stop here.
        var digits = DigitsAhead(text, start);
        if (digits < 8)
        {
            match = default;
            return false;
        }

        if (digits >= 13 && Ascii.IsDigit(first) && text[start] != '+' && (length = CardDetector.Match(text, word)) > 0)
        {
            match = new PiiMatch(PiiKind.Card, word, length);
            return true;
        }

        if ((length = PhoneDetector.Match(text, start)) > 0)
        {
            match = new PiiMatch(PiiKind.Phone, start, length);
            return true;
        }

        match = default;
        return false;
    }

    // Digits (up to 13) in the run of digits and phone or card separators from start, looking at most 48 bytes ahead.
    private static int DigitsAhead(ReadOnlySpan<byte> text, int start)
    {
        var digits = 0;
        for (var i = start; i < text.Length && i - start < 48 && digits < 13; i++)
        {
            var b = text[i];
            if (Ascii.IsDigit(b))
            {
                digits++;
            }
            else if (b is not ((byte)' ' or (byte)'-' or (byte)'.' or (byte)'(' or (byte)')' or (byte)'+'))
            {
                break;
            }
        }

        return digits;
    }
}

/// <summary>ASCII character classes over UTF-8 bytes (every byte of a multi-byte sequence is ≥ 0x80, so never a match).</summary>
internal static class Ascii
{
    public static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    public static bool IsUpper(byte b) => (uint)(b - 'A') <= 'Z' - 'A';

    public static bool IsLetter(byte b) => (uint)((b | 0x20) - 'a') <= 'z' - 'a';

    public static bool IsLetterOrDigit(byte b) => IsDigit(b) || IsLetter(b);

    public static bool IsHexDigit(byte b) => IsDigit(b) || (uint)((b | 0x20) - 'a') <= 'f' - 'a';
}
