namespace AuditStream.Ledger.Privacy;

/// <summary>
/// The <c>subject_keys</c> table both stores create: a row per data key, live while <c>wrapped</c> is set (one live key
/// per subject), and after erasure the record of the erasure (<c>erasure</c> JSON, then <c>erasure_seq</c>).
/// </summary>
internal static class SubjectKeysSchema
{
    public static string Create(string blobType, string integerType) => $"""
        CREATE TABLE IF NOT EXISTS subject_keys(
            kid text PRIMARY KEY,
            tenant_id text NOT NULL,
            subject_id text NOT NULL,
            master_kid text,
            wrapped {blobType},
            created_us {integerType} NOT NULL,
            erasure text,
            erasure_seq {integerType});
        CREATE UNIQUE INDEX IF NOT EXISTS subject_keys_live ON subject_keys(tenant_id, subject_id) WHERE wrapped IS NOT NULL;
        CREATE INDEX IF NOT EXISTS subject_keys_subject ON subject_keys(tenant_id, subject_id, created_us);
        """;
}
