using AuditStream.Events;

namespace AuditStream.Security.Attributes;

/// <summary>
/// The rules that apply to one caller doing one action, chosen once (per request or stream connection) so that each event
/// is checked against only those: visible when no applicable deny rule matches it and some applicable allow rule does.
/// </summary>
public sealed class AttributeGrant
{
    private readonly CompiledRule[] _denies;
    private readonly CompiledRule[] _allows;

    internal AttributeGrant(CompiledRule[] denies, CompiledRule[] allows)
    {
        _denies = denies;
        _allows = allows;
    }

    /// <summary>Whether the action may be attempted at all: some rule allows it and no rule denies it outright.</summary>
    public bool AllowsRequest => _allows.Length > 0 && !Array.Exists(_denies, static d => d.Unconditional);

    /// <summary>Whether <paramref name="e"/> may be shown (hot path: no allocation).</summary>
    public bool Allows(AuditEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        foreach (var deny in _denies)
        {
            if (deny.Matches(e))
            {
                return false;
            }
        }

        foreach (var allow in _allows)
        {
            if (allow.Matches(e))
            {
                return true;
            }
        }

        return false;
    }
}
