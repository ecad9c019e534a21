using AuditStream.Privacy.Detection;

namespace AuditStream.Core.Tests.Privacy.Detection;

public sealed class DetectorTests
{
    [Theory]
    [InlineData("contact ann@example.com today", "ann@example.com")]
    [InlineData("<first.last+tag@mail.example.co.uk>", "first.last+tag@mail.example.co.uk")]
    [InlineData("o'brien_99@sub-domain.example.org.", "o'brien_99@sub-domain.example.org")]
    [InlineData("mail:bob@example.io", "bob@example.io")]
    public void An_email_address_is_found_with_its_exact_extent(string text, string expected) =>
        Assert.Equal([(PiiKind.Email, expected)], Scan.All(text));

    [Theory]
    [InlineData("user@localhost")]
    [InlineData("@example.com")]
    [InlineData("a@b.c")]
    [InlineData("see @handle on social")]
    [InlineData("pkg@1.2.3")]
    [InlineData("git@host:repo")]
    public void Strings_that_only_look_like_email_addresses_are_not(string text) =>
        Assert.DoesNotContain(Scan.All(text), f => f.Kind == PiiKind.Email);

    [Theory]
    [InlineData("call +14155552671 now", "+14155552671")]
    [InlineData("tel:+1 (415) 555-2671", "+1 (415) 555-2671")]
    [InlineData("+44 20 7946 0958", "+44 20 7946 0958")]
    [InlineData("+44 (0)20 7946 0958", "+44 (0)20 7946 0958")]
    [InlineData("+49-151-1234-5678", "+49-151-1234-5678")]
    [InlineData("(415) 555-2671", "(415) 555-2671")]
    [InlineData("415-555-2671", "415-555-2671")]
    [InlineData("415.555.2671", "415.555.2671")]
    [InlineData("1-800-555-0199", "1-800-555-0199")]
    [InlineData("020 7946 0958", "020 7946 0958")]
    [InlineData("06 12 34 56 78", "06 12 34 56 78")]
    [InlineData("030 1234567", "030 1234567")]
    public void Phone_numbers_in_E164_and_national_formats_are_found(string text, string expected) =>
        Assert.Equal([(PiiKind.Phone, expected)], Scan.All(text));

    [Theory]
    [InlineData("seq 4155552671")]
    [InlineData("1733275200000")]
    [InlineData("2026-12-04")]
    [InlineData("2026-12-04T01:25:35Z")]
    [InlineData("2026-12-04 01:25:35")]
    [InlineData("04.12.2026")]
    [InlineData("1 234 567 890")]
    [InlineData("12.345.678.901")]
    [InlineData("3.14159265358")]
    [InlineData("order 123-456")]
    [InlineData("+12345")]
    [InlineData("id 0190a3f2-7c1e-7000-8000-1234567890ab")]
    [InlineData("build 415-555-2671x")]
    [InlineData("total 12 345")]
    public void Plain_numbers_dates_timestamps_and_ids_are_not_phone_numbers(string text) =>
        Assert.DoesNotContain(Scan.All(text), f => f.Kind == PiiKind.Phone);

    [Theory]
    [InlineData("card 4111111111111111 ok", "4111111111111111")]
    [InlineData("4111 1111 1111 1111", "4111 1111 1111 1111")]
    [InlineData("5500-0000-0000-0004", "5500-0000-0000-0004")]
    [InlineData("amex 3782 822463 10005", "3782 822463 10005")]
    [InlineData("4222222222222", "4222222222222")]
    [InlineData("6011 0009 9013 9424 exp 2027", "6011 0009 9013 9424")]
    [InlineData("4111 1111 1111 1111 2027", "4111 1111 1111 1111")]
    public void Card_numbers_passing_Luhn_are_found(string text, string expected) =>
        Assert.Equal([(PiiKind.Card, expected)], Scan.All(text));

    [Theory]
    [InlineData("4111111111111112")]
    [InlineData("4111 1111 1111 1112")]
    [InlineData("1733275200000123")]
    [InlineData("x4111111111111111")]
    [InlineData("4111111111111111a")]
    [InlineData("41111111111111111111111")]
    [InlineData("4111 1111-1111 1111")]
    public void Numbers_failing_Luhn_the_network_ranges_or_word_boundaries_are_not_cards(string text) =>
        Assert.DoesNotContain(Scan.All(text), f => f.Kind == PiiKind.Card);

    [Theory]
    [InlineData("iban DE89370400440532013000", "DE89370400440532013000")]
    [InlineData("DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00")]
    [InlineData("GB82 WEST 1234 5698 7654 32.", "GB82 WEST 1234 5698 7654 32")]
    [InlineData("NO9386011117947", "NO9386011117947")]
    [InlineData("(FR1420041010050500013M02606)", "FR1420041010050500013M02606")]
    public void Ibans_with_a_valid_checksum_and_length_are_found(string text, string expected) =>
        Assert.Equal([(PiiKind.Iban, expected)], Scan.All(text));

    [Theory]
    [InlineData("DE89370400440532013001")]
    [InlineData("DE8937040044053201300")]
    [InlineData("DE893704004405320130000")]
    [InlineData("ZZ89370400440532013000")]
    [InlineData("de89370400440532013000")]
    [InlineData("XDE89370400440532013000")]
    public void Ibans_with_a_wrong_checksum_length_or_country_are_not_found(string text) =>
        Assert.DoesNotContain(Scan.All(text), f => f.Kind == PiiKind.Iban);

    [Theory]
    [InlineData("from 192.168.1.20 at", "192.168.1.20")]
    [InlineData("10.0.0.1:8080", "10.0.0.1")]
    [InlineData("peer 2001:db8::8a2e:370:7334", "2001:db8::8a2e:370:7334")]
    [InlineData("fe80::1.", "fe80::1")]
    [InlineData("[::1]:443", "::1")]
    [InlineData("::ffff:192.0.2.128", "::ffff:192.0.2.128")]
    [InlineData("2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:0db8:0000:0000:0000:ff00:0042:8329")]
    public void IPv4_and_IPv6_addresses_are_found(string text, string expected) =>
        Assert.Equal([(PiiKind.Ip, expected)], Scan.All(text));

    [Theory]
    [InlineData("256.1.1.1")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.4.5")]
    [InlineData("v1.2.3.4")]
    [InlineData("12:30:45")]
    [InlineData("00:1A:2B:3C:4D:5E")]
    [InlineData("std::vector")]
    [InlineData("key :: value")]
    [InlineData("ratio 1:2")]
    public void Versions_times_mac_addresses_and_colons_are_not_ip_addresses(string text) =>
        Assert.DoesNotContain(Scan.All(text), f => f.Kind == PiiKind.Ip);

    [Fact]
    public void Several_kinds_in_one_text_are_each_found_in_order()
    {
        var found = Scan.All("ann@example.com paid with 4111111111111111 from 10.1.2.3, call +14155552671, IBAN DE89370400440532013000");

        Assert.Equal([PiiKind.Email, PiiKind.Card, PiiKind.Ip, PiiKind.Phone, PiiKind.Iban], found.Select(f => f.Kind));
    }

    [Theory]
    [InlineData("eu-west-1")]
    [InlineData("customer request")]
    [InlineData("reason: timeout after 30s, retry 3 of 5")]
    [InlineData("user-42 read record-1234567890")]
    [InlineData("sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    [InlineData("ünïcödé 日本語 ✓")]
    public void Ordinary_audit_text_has_no_detections(string text) => Assert.Empty(Scan.All(text));

    [Fact]
    public void A_long_run_of_anchor_bytes_is_scanned_in_linear_time()
    {
        var text = string.Concat(Enumerable.Repeat("1:", 200_000)) + string.Concat(Enumerable.Repeat("9.", 200_000)) + new string('@', 200_000);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var found = Scan.All(text);

        Assert.Equal([], found.Take(3));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }
}
