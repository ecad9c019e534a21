using System.Buffers;

namespace AuditStream.Streaming.Protocol;

/// <summary>The shape of a ledger id on the wire (<c>ledger_id</c>), checked before it is compared.</summary>
public static class LedgerIds
{
    /// <summary>What a well-formed ledger id is, for error messages.</summary>
    public const string Rule = "the ledger_id of audit.connection.established: 32 lower-case hex digits";

    private static readonly SearchValues<char> s_hex = SearchValues.Create("0123456789abcdef");

    /// <summary>True for 32 lower-case hex digits, the form every ledger store gives its id.</summary>
    public static bool IsWellFormed(string? value) =>
        value is { Length: 32 } && value.AsSpan().IndexOfAnyExcept(s_hex) < 0;
}
