using System.Text;
using AuditStream.Privacy.Detection;
using CsCheck;

namespace AuditStream.Core.Tests.Privacy.Detection;

public sealed class DetectorPropertyTests
{
    // Filler without digits, '@' or ':' cannot create or extend a detection.
    private static readonly Gen<string> s_filler = Gen.String[Gen.Char["abcdefghij XYZ,;!?-"], 0, 30];

    // With a first and a check digit: 13-19 digits.
    private static readonly Gen<int[]> s_cardBody = Gen.Int[11, 17].SelectMany(n => Gen.Int[0, 9].Array[n]);

    // With a check digit: 13-19 digits, any first digit.
    private static readonly Gen<int[]> s_digits = Gen.Int[12, 18].SelectMany(n => Gen.Int[0, 9].Array[n]);

    private static readonly (string Country, int Length)[] s_countries =
        [("DE", 22), ("GB", 22), ("FR", 27), ("NL", 18), ("NO", 15), ("IT", 27), ("ES", 24), ("CH", 21), ("MT", 31), ("RU", 33)];

    [Fact]
    public void Any_card_number_with_a_valid_Luhn_digit_embedded_in_text_is_found()
    {
        Gen.Select(Gen.Int[2, 6], s_cardBody, Gen.Int[0, 2], s_filler, s_filler).Sample((first, rest, grouping, before, after) =>
        {
            var body = new[] { first }.Concat(rest).ToArray();
            var digits = string.Concat(body.Append(CheckDigit(body)));
            var number = grouping == 0 ? digits : string.Join(grouping == 1 ? ' ' : '-', digits.Chunk(4).Select(c => new string(c)));
            var found = Scan.All($"{before} {number} {after}");

            Assert.Equal([(PiiKind.Card, number)], found);
        }, iter: 2000);
    }

    [Fact]
    public void Digit_runs_failing_Luhn_are_never_found()
    {
        Gen.Select(s_digits, Gen.Int[1, 9], s_filler, s_filler).Sample((rest, wrong, before, after) =>
        {
            var check = (CheckDigit(rest) + wrong) % 10;
            var number = string.Concat(rest.Append(check));

            Assert.Empty(Scan.All($"{before} {number} {after}"));
        }, iter: 2000);
    }

    [Fact]
    public void Generated_ibans_with_a_valid_checksum_are_found_compact_and_printed()
    {
        Gen.Select(Gen.Int[0, s_countries.Length - 1], Gen.Int[0, 9].Array[30], Gen.Bool, s_filler, s_filler).Sample((c, bban, printed, before, after) =>
        {
            var (country, length) = s_countries[c];
            var iban = Iban(country, string.Concat(bban.Take(length - 4)));
            var text = printed ? string.Join(' ', iban.Chunk(4).Select(g => new string(g))) : iban;

            Assert.Equal([(PiiKind.Iban, text)], Scan.All($"{before} {text} {after}"));

            // Any other check digits fail mod 97.
            var broken = iban[..2] + ((int.Parse(iban[2..4], System.Globalization.CultureInfo.InvariantCulture) + 1) % 100).ToString("00", System.Globalization.CultureInfo.InvariantCulture) + iban[4..];
            Assert.DoesNotContain(Scan.All($"{before} {broken} {after}"), f => f.Kind == PiiKind.Iban);
        }, iter: 1000);
    }

    [Fact]
    public void Generated_email_addresses_and_ip_addresses_are_found_in_text()
    {
        var label = Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789"], 1, 12];
        Gen.Select(label, label, Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz"], 2, 6], Gen.Byte.Array[4], s_filler).Sample((local, domain, tld, ip, filler) =>
        {
            var email = $"{local}@{domain}.{tld}";
            var v4 = string.Join('.', ip);
            var v6 = new System.Net.IPAddress([.. ip, .. ip, .. ip, .. ip]).ToString();

            Assert.Equal([(PiiKind.Email, email), (PiiKind.Ip, v4), (PiiKind.Ip, v6)], Scan.All($"{filler} {email} {filler} {v4} {filler} {v6} {filler}"));
        }, iter: 1000);
    }

    [Fact]
    public void Text_without_digits_at_signs_or_colons_is_skipped_by_the_prefilter() =>
        Gen.String.Sample(s => Assert.Equal(
            s.Any(c => char.IsAsciiDigit(c) || c is '@' or ':'),
            PiiScanner.MayContain(Encoding.UTF8.GetBytes(s))), iter: 2000);

    [Fact]
    public void Any_bytes_scan_without_throwing_into_ordered_non_overlapping_in_bounds_matches()
    {
        var dense = Gen.String[Gen.Char["0123456789.:@ +-()abcfxDEGB"], 0, 200].Select(Encoding.UTF8.GetBytes);
        Gen.OneOf(Gen.Byte.Array[0, 200], dense).Sample(text =>
        {
            var position = 0;
            var end = 0;
            while (PiiScanner.TryFindNext(text, ref position, out var match))
            {
                Assert.True(match.Start >= end && match.Length > 0 && match.End <= text.Length && position == match.End);
                end = match.End;
            }
        }, iter: 20_000);
    }

    private static int CheckDigit(IReadOnlyList<int> body)
    {
        var sum = 0;
        for (var i = 0; i < body.Count; i++)
        {
            var d = body[body.Count - 1 - i];
            if (i % 2 == 0)
            {
                d = d * 2 > 9 ? (d * 2) - 9 : d * 2;
            }

            sum += d;
        }

        return (10 - (sum % 10)) % 10;
    }

    private static string Iban(string country, string bban)
    {
        var rearranged = bban + country + "00";
        var remainder = 0;
        foreach (var ch in rearranged)
        {
            remainder = char.IsAsciiDigit(ch) ? ((remainder * 10) + (ch - '0')) % 97 : ((remainder * 100) + (ch - 'A' + 10)) % 97;
        }

        return $"{country}{98 - remainder:00}{bban}";
    }
}
