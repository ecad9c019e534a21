using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AuditStream.Canonical;
using AuditStream.Checkpoints;

namespace AuditStream.Ledger.Reports;

/// <summary>
/// A signed integrity report: <c>{"report": {…}, "signed_note": "…"}</c>, where <c>signed_note</c> is a
/// c2sp.org/signed-note whose text is the report's RFC 8785 form and a newline, signed with the ledger's Ed25519
/// checkpoint key. The signed bytes are exactly that text (UTF-8), so any signed-note verifier holding the published
/// verifier key checks it; the <c>report</c> member is a readable copy that must canonicalize to the same text.
/// </summary>
public static class IntegrityReport
{
    /// <summary>The <c>format</c> member of every report.</summary>
    public const string Format = "auditstream-integrity-report/v1";

    /// <summary>Signs <paramref name="canonicalReport"/> (one line of RFC 8785 JSON): the signed note over it and a newline.</summary>
    public static string SignNote(string canonicalReport, NoteSigner signer)
    {
        ArgumentNullException.ThrowIfNull(canonicalReport);
        ArgumentNullException.ThrowIfNull(signer);
        return signer.Sign(canonicalReport + "\n");
    }

    /// <summary>The report file's JSON: the readable report and its signed note.</summary>
    public static string ToFile(string canonicalReport, string note)
    {
        ArgumentNullException.ThrowIfNull(canonicalReport);
        ArgumentNullException.ThrowIfNull(note);
        var output = new ArrayBufferWriter<byte>(canonicalReport.Length * 3);
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("report"u8);
            using (var report = JsonDocument.Parse(canonicalReport))
            {
                report.RootElement.WriteTo(writer);
            }

            writer.WriteString("signed_note"u8, note);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(output.WrittenSpan) + "\n";
    }

    /// <summary>
    /// Checks a report file's JSON against the pinned <paramref name="verifier"/>: the note's signature, that its text is a
    /// report, and that the readable <c>report</c> member says the same. On success <paramref name="canonicalReport"/> is the
    /// signed report (trust only it); otherwise <paramref name="error"/> says what failed.
    /// </summary>
    public static bool TryVerify(
        string reportFile,
        NoteVerifier verifier,
        [NotNullWhen(true)] out string? canonicalReport,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(reportFile);
        ArgumentNullException.ThrowIfNull(verifier);
        canonicalReport = null;
        try
        {
            using var file = JsonDocument.Parse(reportFile);
            if (file.RootElement.ValueKind != JsonValueKind.Object
                || !file.RootElement.TryGetProperty("signed_note", out var noteElement) || noteElement.ValueKind != JsonValueKind.String
                || !file.RootElement.TryGetProperty("report", out var report))
            {
                error = "the file is not a report: expected {\"report\": {…}, \"signed_note\": \"…\"}";
                return false;
            }

            if (!TryOpenNote(noteElement.GetString()!, verifier, out var signed, out error))
            {
                return false;
            }

            var copy = new ArrayBufferWriter<byte>();
            JsonCanonicalizer.WriteCanonical(report, copy);
            if (!string.Equals(Encoding.UTF8.GetString(copy.WrittenSpan), signed, StringComparison.Ordinal))
            {
                error = "the \"report\" member differs from the signed report: it was edited after signing";
                return false;
            }

            canonicalReport = signed;
            return true;
        }
        catch (Exception e) when (e is JsonException or JsonCanonicalizationException)
        {
            error = $"the file is not valid report JSON: {e.Message}";
            return false;
        }
    }

    /// <summary>Opens a report's signed note with <paramref name="verifier"/>; <paramref name="canonicalReport"/> is its text without the final newline.</summary>
    public static bool TryOpenNote(
        string note,
        NoteVerifier verifier,
        [NotNullWhen(true)] out string? canonicalReport,
        [NotNullWhen(false)] out string? error)
    {
        canonicalReport = null;
        var opened = SignedNote.Open(note, verifier);
        if (!opened.Succeeded)
        {
            error = $"the signature does not verify with {verifier.Name}+{NoteFormat.FormatKeyId(verifier.KeyId)}: {opened.Error}";
            return false;
        }

        var text = opened.Note!.Text;
        try
        {
            using var body = JsonDocument.Parse(text);
            if (body.RootElement.ValueKind != JsonValueKind.Object
                || !body.RootElement.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.String
                || format.GetString() != Format)
            {
                // The same key signs checkpoints and erasure certificates: only a note whose format says report is one.
                error = $"the signed note is not an {Format}";
                return false;
            }
        }
        catch (JsonException)
        {
            error = "the signed note's text is not JSON (a checkpoint, not a report?)";
            return false;
        }

        canonicalReport = text[..^1];
        error = null;
        return true;
    }
}
