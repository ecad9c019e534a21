using AuditStream.Checkpoints;

namespace AuditStream.Client.Verification;

/// <summary>
/// What a reader requires of witnesses before it trusts a checkpoint: valid Ed25519 cosignature/v1 lines
/// (c2sp.org/tlog-cosignature) from at least <see cref="Quorum"/> of the configured witnesses, so a server cannot show
/// this reader a history those witnesses did not see.
/// </summary>
public sealed class WitnessPolicy
{
    private readonly CosignatureVerifier[] _witnesses;

    /// <summary>Creates a policy over the witnesses' cosigner keys (<c>name+id+base64(0x04 ‖ key)</c>).</summary>
    /// <exception cref="FormatException">A key is malformed.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="quorum"/> is below 1 or above the number of keys.</exception>
    public WitnessPolicy(IEnumerable<string> witnessKeys, int quorum)
    {
        ArgumentNullException.ThrowIfNull(witnessKeys);
        _witnesses = [.. witnessKeys.Select(CosignatureVerifier.Parse)];
        ArgumentOutOfRangeException.ThrowIfLessThan(quorum, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quorum, _witnesses.Length);
        Quorum = quorum;
    }

    /// <summary>How many distinct configured witnesses must have cosigned.</summary>
    public int Quorum { get; }

    /// <summary>Null when <paramref name="signedCheckpoint"/> carries enough valid cosignatures, else why not.</summary>
    public string? Check(string signedCheckpoint)
    {
        if (!SignedNote.TryParse(signedCheckpoint, out var note, out var error))
        {
            return $"the checkpoint is malformed: {error}";
        }

        var cosigned = _witnesses
            .Where(w => note.Signatures.Any(s => w.Verify(note.Text, s, out _)))
            .Select(w => w.Name)
            .ToList();
        return cosigned.Count >= Quorum
            ? null
            : $"{cosigned.Count} of the required {Quorum} witnesses cosigned the checkpoint{(cosigned.Count > 0 ? $" ({string.Join(", ", cosigned)})" : "")}";
    }
}
