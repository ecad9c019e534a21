using System.Net;
using System.Text;
using System.Text.Json;

namespace AuditStream.Server.Cli;

/// <summary>
/// Renders a signed integrity report as one printable, self-contained HTML page: no scripts, no external resources,
/// print CSS. Every value from the ledger is HTML-encoded. The page is a pure function of the signed note, which it
/// carries in <c>&lt;pre id="signed-note"&gt;</c>: <c>auditstream report verify</c> re-renders it and compares.
/// </summary>
internal static class IntegrityReportHtml
{
    private const string NotePrefix = "<pre id=\"signed-note\">";

    private const string Style = """
        body{font:11pt/1.4 system-ui,sans-serif;margin:2em;color:#111}
        h1{font-size:16pt;margin:0 0 .2em}h2{font-size:13pt;margin:1.4em 0 .4em;border-bottom:1px solid #999}
        table{border-collapse:collapse;margin:.3em 0}td,th{border:1px solid #bbb;padding:.15em .5em;text-align:left;vertical-align:top}
        td.n{text-align:right;font-variant-numeric:tabular-nums}code,pre{font:9pt ui-monospace,monospace;word-break:break-all;white-space:pre-wrap}
        .ok{color:#064}.bad{color:#a00;font-weight:bold}.none{color:#666;font-style:italic}
        @media print{body{margin:0}h2{break-after:avoid}table,pre{break-inside:avoid}}
        @page{size:A4;margin:15mm}
        """;

    /// <summary>The page for <paramref name="canonicalReport"/> and its <paramref name="signedNote"/>.</summary>
    public static string Render(string canonicalReport, string signedNote)
    {
        using var document = JsonDocument.Parse(canonicalReport);
        var r = document.RootElement;
        var ledger = r.GetProperty("ledger");
        var period = r.GetProperty("period");
        var verification = r.GetProperty("verification");
        var events = r.GetProperty("events");
        var checkpoints = r.GetProperty("checkpoints");
        var html = new StringBuilder(8192);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">")
            .Append("<title>Integrity report ").Append(E(period.GetProperty("from"))).Append(" – ").Append(E(period.GetProperty("to"))).Append("</title>")
            .Append("<style>").Append(Style).Append("</style></head><body>\n");
        html.Append("<h1>Audit ledger integrity report</h1>\n<table>");
        Row(html, "Ledger", E(ledger.GetProperty("origin")) + " (id " + E(ledger.GetProperty("id")) + ")");
        Row(html, "Period", E(period.GetProperty("from")) + " to " + E(period.GetProperty("to")) + " (end exclusive)");
        Row(html, "Tenant", period.GetProperty("tenant_id").ValueKind == JsonValueKind.Null ? "<span class=\"none\">all tenants</span>" : E(period.GetProperty("tenant_id")));
        Row(html, "Generated", E(r.GetProperty("generated_at")));
        Row(html, "Verifier key", "<code>" + E(ledger.GetProperty("verifier_key")) + "</code>");
        html.Append("</table>\n<h2>Verification</h2>\n<table>");
        var valid = verification.GetProperty("valid").GetBoolean();
        Row(html, "Result", valid ? "<span class=\"ok\">VALID</span>" : "<span class=\"bad\">FAILED: " + E(verification.GetProperty("result")) + "</span>");
        Row(html, "First bad seq", verification.GetProperty("first_bad_seq").ValueKind == JsonValueKind.Null ? "<span class=\"none\">none</span>" : E(verification.GetProperty("first_bad_seq")));
        Row(html, "Detail", E(verification.GetProperty("message")));
        Row(html, "Scope", E(verification.GetProperty("scope")));
        Row(html, "Events checked", E(verification.GetProperty("events_checked")));
        Row(html, "Checkpoints checked", E(verification.GetProperty("checkpoints_checked")));
        html.Append("</table>\n<h2>Events in the period</h2>\n<table>");
        Row(html, "Total", E(events.GetProperty("total")));
        Row(html, "Unreadable bodies", E(events.GetProperty("unreadable")));
        Row(html, "First", Edge(events.GetProperty("first")));
        Row(html, "Last", Edge(events.GetProperty("last")));
        html.Append("</table>\n");
        Counts(html, "By category", "Category", events.GetProperty("by_category"));
        Counts(html, "By tenant", "Tenant", events.GetProperty("by_tenant"));
        Chain(html, checkpoints);
        html.Append("<h2>Signature</h2>\n<p>Ed25519 c2sp.org/signed-note over the report's RFC 8785 JSON and a newline. Check with ")
            .Append("<code>auditstream report verify FILE --key VERIFIER_KEY</code> using the ledger's published verifier key.</p>\n")
            .Append(NotePrefix).Append(WebUtility.HtmlEncode(signedNote)).Append("</pre>\n</body></html>\n");
        return html.ToString();
    }

    /// <summary>The signed note a rendered page carries, or null when the page has none.</summary>
    public static string? ExtractNote(string page)
    {
        var start = page.IndexOf(NotePrefix, StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        start += NotePrefix.Length;
        var end = page.IndexOf("</pre>", start, StringComparison.Ordinal);
        return end < 0 ? null : WebUtility.HtmlDecode(page[start..end]);
    }

    private static void Chain(StringBuilder html, JsonElement checkpoints)
    {
        var chainValid = checkpoints.GetProperty("chain_valid").GetBoolean();
        html.Append("<h2>Checkpoint chain</h2>\n<p>").Append(chainValid ? "<span class=\"ok\">Every signature verifies and every consecutive pair is consistent.</span>" : "<span class=\"bad\">The chain is broken: see below.</span>")
            .Append("</p>\n<table><tr><th>Tree size</th><th>Root hash</th><th>Signed at</th><th>Signature</th></tr>");
        foreach (var c in checkpoints.GetProperty("signed").EnumerateArray())
        {
            var ok = c.GetProperty("signature_valid").GetBoolean();
            html.Append("<tr><td class=\"n\">").Append(E(c.GetProperty("tree_size")))
                .Append(c.GetProperty("before_period").GetBoolean() ? " <span class=\"none\">(before the period)</span>" : "")
                .Append("</td><td><code>").Append(E(c.GetProperty("root_hash"))).Append("</code></td><td>").Append(E(c.GetProperty("created_at")))
                .Append("</td><td>").Append(ok ? "<span class=\"ok\">valid</span>" : "<span class=\"bad\">" + E(c.GetProperty("problem")) + "</span>").Append("</td></tr>");
        }

        html.Append("</table>\n<table><tr><th>From size</th><th>To size</th><th>Consistency proof</th><th>Hashes</th></tr>");
        foreach (var link in checkpoints.GetProperty("consistency").EnumerateArray())
        {
            html.Append("<tr><td class=\"n\">").Append(E(link.GetProperty("from_size"))).Append("</td><td class=\"n\">").Append(E(link.GetProperty("to_size")))
                .Append("</td><td>").Append(link.GetProperty("consistent").GetBoolean() ? "<span class=\"ok\">consistent</span>" : "<span class=\"bad\">INCONSISTENT</span>")
                .Append("</td><td class=\"n\">").Append(link.GetProperty("proof").GetArrayLength()).Append("</td></tr>");
        }

        html.Append("</table>\n");
    }

    private static void Counts(StringBuilder html, string title, string column, JsonElement counts)
    {
        html.Append("<h2>").Append(title).Append("</h2>\n<table><tr><th>").Append(column).Append("</th><th>Events</th></tr>");
        foreach (var entry in counts.EnumerateObject())
        {
            var name = entry.Name.Length == 0 ? "<span class=\"none\">(none)</span>" : WebUtility.HtmlEncode(entry.Name);
            html.Append("<tr><td>").Append(name).Append("</td><td class=\"n\">").Append(E(entry.Value)).Append("</td></tr>");
        }

        html.Append("</table>\n");
    }

    private static string Edge(JsonElement edge) =>
        edge.ValueKind == JsonValueKind.Null
            ? "<span class=\"none\">none</span>"
            : "seq " + E(edge.GetProperty("seq")) + " at " + E(edge.GetProperty("timestamp")) + " <code>" + E(edge.GetProperty("hash")) + "</code>";

    private static void Row(StringBuilder html, string name, string value) =>
        html.Append("<tr><th>").Append(name).Append("</th><td>").Append(value).Append("</td></tr>");

    private static string E(JsonElement value) =>
        WebUtility.HtmlEncode(value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText());
}
