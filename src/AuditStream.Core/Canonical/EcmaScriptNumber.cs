using System.Globalization;

namespace AuditStream.Canonical;

/// <summary>
/// ECMAScript <c>Number.prototype.toString()</c> for finite doubles, which RFC 8785 §3.2.2.3 uses for JSON numbers.
/// </summary>
/// <remarks>
/// .NET's formatting supplies the digits ECMA-262 §6.1.6.1.20 asks for (the fewest that round-trip, the closest of
/// those); only the layout differs, so the digits and the decimal exponent are taken from it and laid out again.
/// </remarks>
internal static class EcmaScriptNumber
{
    /// <summary>Longest output: sign, 17 digits, and either "0.00000" or ".", "e-", 3 exponent digits.</summary>
    public const int MaxLength = 32;

    private static readonly string[] s_exponentFormats =
        ["E0", "E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9", "E10", "E11", "E12", "E13", "E14", "E15", "E16"];

    public static int Format(double value, Span<byte> destination)
    {
        if (!double.IsFinite(value))
        {
            throw new JsonCanonicalizationException($"{value} has no JSON form (RFC 8785 §3.2.2.3).");
        }

        if (value == 0)
        {
            // Covers -0, which ECMAScript prints as "0".
            destination[0] = (byte)'0';
            return 1;
        }

        Span<byte> text = stackalloc byte[MaxLength];
        Span<byte> digits = stackalloc byte[MaxLength];
        var textLength = FormatOrThrow(value, text, "R");
        Decompose(text[..textLength], digits, out var k, out var n);
        if (k > 1)
        {
            // "R" gives the fewest digits k that round-trip; ECMA-262 also wants the k-digit string closest to the
            // value. "E{k-1}" is correctly rounded, so it is that string whenever it round-trips; this keeps the
            // choice independent of how "R" picks among equally short candidates.
            textLength = FormatOrThrow(value, text, s_exponentFormats[k - 1]);
            if (double.TryParse(text[..textLength], NumberStyles.Float, CultureInfo.InvariantCulture, out var closest) && closest == value)
            {
                Decompose(text[..textLength], digits, out k, out n);
            }
        }

        var pos = 0;
        if (value < 0)
        {
            destination[pos++] = (byte)'-';
        }

        if (k <= n && n <= 21)
        {
            // ECMA-262 §6.1.6.1.20 step 7: the digits then n−k zeros.
            digits[..k].CopyTo(destination[pos..]);
            pos += k;
            destination.Slice(pos, n - k).Fill((byte)'0');
            pos += n - k;
        }
        else if (0 < n && n <= 21)
        {
            // Step 8: the point falls inside the digits.
            digits[..n].CopyTo(destination[pos..]);
            pos += n;
            destination[pos++] = (byte)'.';
            digits[n..k].CopyTo(destination[pos..]);
            pos += k - n;
        }
        else if (-6 < n && n <= 0)
        {
            // Step 9: "0." then −n zeros then the digits.
            destination[pos++] = (byte)'0';
            destination[pos++] = (byte)'.';
            destination.Slice(pos, -n).Fill((byte)'0');
            pos += -n;
            digits[..k].CopyTo(destination[pos..]);
            pos += k;
        }
        else
        {
            // Steps 10-11: exponent form d[.ddd]e±x with x = n−1.
            destination[pos++] = digits[0];
            if (k > 1)
            {
                destination[pos++] = (byte)'.';
                digits[1..k].CopyTo(destination[pos..]);
                pos += k - 1;
            }

            destination[pos++] = (byte)'e';
            var e = n - 1;
            destination[pos++] = e < 0 ? (byte)'-' : (byte)'+';
            if (!Math.Abs(e).TryFormat(destination[pos..], out var exponentLength, provider: CultureInfo.InvariantCulture))
            {
                throw new InvalidOperationException("The exponent did not fit.");
            }

            pos += exponentLength;
        }

        return pos;
    }

    private static int FormatOrThrow(double value, Span<byte> destination, string format)
    {
        if (!value.TryFormat(destination, out var written, format, CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"A double formatted with \"{format}\" did not fit in {MaxLength} bytes.");
        }

        return written;
    }

    /// <summary>
    /// Splits .NET's "-1.2345E-07" / "123.45" / "0.0001" into the significant digits ("12345", <paramref name="k"/> of
    /// them, trailing zeros dropped) and <paramref name="n"/>, the position of the decimal point relative to the first
    /// digit: value = 0.d1d2…dk × 10^n (ECMA-262 §6.1.6.1.20 step 5).
    /// </summary>
    private static void Decompose(ReadOnlySpan<byte> text, Span<byte> digits, out int k, out int n)
    {
        k = 0;
        var integerDigits = 0;
        var seenPoint = false;
        var exponent = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '-')
            {
                continue;
            }

            if (c == '.')
            {
                seenPoint = true;
            }
            else if (c == 'E')
            {
                exponent = int.Parse(text[(i + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                break;
            }
            else if (k == 0 && c == '0')
            {
                // A leading zero ("0.0001") shifts the point instead of being a digit.
                if (seenPoint)
                {
                    integerDigits--;
                }
            }
            else
            {
                digits[k++] = c;
                if (!seenPoint)
                {
                    integerDigits++;
                }
            }
        }

        while (k > 1 && digits[k - 1] == '0')
        {
            k--;
        }

        n = integerDigits + exponent;
    }
}
