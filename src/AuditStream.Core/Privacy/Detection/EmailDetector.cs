namespace AuditStream.Privacy.Detection;

/// <summary>
/// <c>local@domain.tld</c> with an ASCII local part (letters, digits, <c>. _ % + - '</c>, at most 64) and at least two
/// domain labels, the last of at least two letters (RFC 5321 §4.5.3.1 limits: 64 and 253). Quoted local parts,
/// IP-literal domains and non-ASCII addresses are not recognised.
/// </summary>
internal static class EmailDetector
{
    private const int MaxLocal = 64;
    private const int MaxDomain = 253;

    public static bool Match(ReadOnlySpan<byte> text, int at, int floor, out int start, out int end)
    {
        start = at;
        end = at;
        while (start > floor && at - start < MaxLocal && IsLocal(text[start - 1]))
        {
            start--;
        }

        while (start < at && text[start] == '.')
        {
            start++;
        }

        if (start == at)
        {
            return false;
        }

        var i = at + 1;
        var labels = 0;
        var lastLabel = i;
        while (i < text.Length && i - at <= MaxDomain)
        {
            var label = i;
            while (i < text.Length && (Ascii.IsLetterOrDigit(text[i]) || text[i] == '-'))
            {
                i++;
            }

            if (i == label)
            {
                break;
            }

            labels++;
            lastLabel = label;
            end = i;
            if (i + 1 < text.Length && text[i] == '.' && Ascii.IsLetterOrDigit(text[i + 1]))
            {
                i++;
                continue;
            }

            break;
        }

        if (labels < 2 || end - lastLabel < 2)
        {
            return false;
        }

        for (var k = lastLabel; k < end; k++)
        {
            if (!Ascii.IsLetter(text[k]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsLocal(byte b) => Ascii.IsLetterOrDigit(b) || b is (byte)'.' or (byte)'_' or (byte)'%' or (byte)'+' or (byte)'-' or (byte)'\'';
}
