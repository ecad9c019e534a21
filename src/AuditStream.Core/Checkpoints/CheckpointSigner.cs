namespace AuditStream.Checkpoints;

/// <summary>Signs a log's checkpoints with its note key; the key name is the log's origin (tlog-checkpoint §Signatures).</summary>
public sealed class CheckpointSigner
{
    private readonly NoteSigner _signer;

    /// <summary>Signs with <paramref name="signer"/>, which the caller keeps owning and disposes.</summary>
    public CheckpointSigner(NoteSigner signer)
    {
        ArgumentNullException.ThrowIfNull(signer);
        _signer = signer;
    }

    /// <summary>The origin this signer signs for: its key name.</summary>
    public string Origin => _signer.Name;

    /// <summary>The verifier key clients need to open the checkpoints this signer makes.</summary>
    public string VerifierKey => _signer.VerifierKey;

    /// <summary>Signs <paramref name="checkpoint"/> and returns the signed note.</summary>
    /// <exception cref="ArgumentException">The checkpoint is for another origin than this signer's key name.</exception>
    public string Sign(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);

        // Signing another log's tree head with this key would vouch for a log we do not run.
        if (!string.Equals(checkpoint.Origin, _signer.Name, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"The checkpoint is for origin '{checkpoint.Origin}' but the key is named '{_signer.Name}'; the key name must be the origin.",
                nameof(checkpoint));
        }

        return _signer.Sign(checkpoint.ToNoteText());
    }
}
