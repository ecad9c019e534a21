namespace AuditStream.Privacy.Detection;

/// <summary>A kind of personal data the ingest scanner recognises in free text.</summary>
public enum PiiKind
{
    /// <summary>An e-mail address (<c>local@domain.tld</c>).</summary>
    Email,

    /// <summary>A phone number: E.164 (<c>+</c> and 8–15 digits) or a national format with separators.</summary>
    Phone,

    /// <summary>A payment card number: 13–19 digits, optionally grouped, passing the Luhn check.</summary>
    Card,

    /// <summary>An IBAN of a known country, with its length and ISO 7064 mod-97 check digits.</summary>
    Iban,

    /// <summary>An IPv4 or IPv6 address.</summary>
    Ip,
}

/// <summary>The configuration and metric names of <see cref="PiiKind"/>.</summary>
public static class PiiKinds
{
    /// <summary>Every kind, in the order the scanner reports them.</summary>
    public static IReadOnlyList<PiiKind> All { get; } = [PiiKind.Email, PiiKind.Phone, PiiKind.Card, PiiKind.Iban, PiiKind.Ip];

    /// <summary>Number of kinds.</summary>
    public const int Count = 5;

    /// <summary>The lower-case name of <paramref name="kind"/> (<c>email</c>, <c>phone</c>, <c>card</c>, <c>iban</c>, <c>ip</c>).</summary>
    public static string Name(PiiKind kind) => kind switch
    {
        PiiKind.Email => "email",
        PiiKind.Phone => "phone",
        PiiKind.Card => "card",
        PiiKind.Iban => "iban",
        PiiKind.Ip => "ip",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The kind named <paramref name="name"/> (case-insensitive), or false.</summary>
    public static bool TryParse(string name, out PiiKind kind)
    {
        foreach (var candidate in All)
        {
            if (string.Equals(Name(candidate), name, StringComparison.OrdinalIgnoreCase))
            {
                kind = candidate;
                return true;
            }
        }

        kind = default;
        return false;
    }
}
