namespace AuditStream.Core.Tests.Checkpoints;

/// <summary>Published test vectors: golang.org/x/mod/sumdb/note (note_test.go) and c2sp.org/signed-note, tlog-checkpoint.</summary>
internal static class PublishedVectors
{
    // golang.org/x/mod/sumdb/note, note_test.go
    public const string PeterVerifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    public const string PeterSignerKey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    public const uint PeterKeyId = 0xc74f20a3;
    public const string EnochVerifierKey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
    public const uint EnochKeyId = 0xaf0cfe78;

    public const string Text =
        "If you think cryptography is the answer to your problem,\n" +
        "then you don't know what your problem is.\n";

    public const string PeterSignatureBase64 = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";
    public const string PeterSignatureLine = "— PeterNeumann " + PeterSignatureBase64 + "\n";
    public const string EnochSignatureBase64 = "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=";
    public const string EnochSignatureLine = "— EnochRoot " + EnochSignatureBase64 + "\n";

    /// <summary>The exact output of Sign(Text, PeterSignerKey) in note_test.go TestSign.</summary>
    public const string PeterSignedNote = Text + "\n" + PeterSignatureLine;

    // c2sp.org/signed-note §Verifier keys, Example
    public const string C2spVerifierKey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    public const string C2spSignedNote =
        "This is an example message.\n" +
        "\n" +
        "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    // c2sp.org/tlog-checkpoint, opening example (its verifier key is not published)
    public const string TlogCheckpointNote =
        "example.com/behind-the-sofa\n" +
        "20852163\n" +
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n" +
        "\n" +
        "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
}
