namespace AuditStream.Privacy.Detection;

/// <summary>One detection: a <see cref="PiiKind"/> at a UTF-8 byte range of the scanned text.</summary>
internal readonly record struct PiiMatch(PiiKind Kind, int Start, int Length)
{
    public int End => Start + Length;
}
