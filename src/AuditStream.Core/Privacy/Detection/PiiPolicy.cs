namespace AuditStream.Privacy.Detection;

/// <summary>The action of each detector for one tenant; <see cref="Off"/> runs none.</summary>
public sealed class PiiPolicy
{
    private readonly PiiAction[] _actions;

    /// <summary>Creates a policy from one action per <see cref="PiiKind"/> (missing kinds are off).</summary>
    public PiiPolicy(IReadOnlyDictionary<PiiKind, PiiAction> actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        _actions = new PiiAction[PiiKinds.Count];
        foreach (var (kind, action) in actions)
        {
            _actions[(int)kind] = action;
        }

        IsOff = Array.TrueForAll(_actions, a => a == PiiAction.Off);
    }

    /// <summary>Every detector off.</summary>
    public static PiiPolicy Off { get; } = new(new Dictionary<PiiKind, PiiAction>());

    /// <summary>True when no detector runs.</summary>
    public bool IsOff { get; }

    /// <summary>The action for <paramref name="kind"/>.</summary>
    public PiiAction this[PiiKind kind] => _actions[(int)kind];

    /// <summary>A policy with <paramref name="action"/> for every detector.</summary>
    public static PiiPolicy All(PiiAction action) => new(PiiKinds.All.ToDictionary(k => k, _ => action));
}
