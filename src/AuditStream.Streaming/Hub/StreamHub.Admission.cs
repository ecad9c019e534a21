using System.Diagnostics.CodeAnalysis;
using AuditStream.Security;
using AuditStream.Streaming.Clients;

namespace AuditStream.Streaming.Hub;

/// <summary>
/// Admission: <see cref="HubOptions.MaxClients"/> in all, of which the <see cref="HubOptions.ReservedPrivilegedShare"/>
/// only admin and security clients may take, <see cref="HubOptions.MaxClientsPerSubject"/> per token subject and
/// <see cref="HubOptions.MaxClientsPerAddress"/> per remote address (admin and security exempt), so one token or one
/// host cannot take every slot.
/// </summary>
public sealed partial class StreamHub
{
    // Admissions are rare next to frames; one lock keeps the three counts consistent with each other.
    private readonly Lock _admissionLock = new();
    private readonly Dictionary<string, int> _perSubject = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _perAddress = new(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="role"/> may use the reserved slots and is exempt from the per-address limit (admin, security).</summary>
    public static bool IsPrivileged(Role role) => role is Role.Admin or Role.Security;

    /// <summary>
    /// Reserves a client slot for a caller with <paramref name="role"/>, token <paramref name="subject"/> and
    /// <paramref name="addressKey"/> (its address, or its network for IPv6), or returns false with the
    /// <see cref="HubMetrics.RefusalReasons"/> label of the limit that refused it.
    /// </summary>
    public bool TryAdmit(Role role, string subject, string? addressKey, [NotNullWhen(true)] out ClientTicket? ticket, [NotNullWhen(false)] out string? refusal)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ticket = null;
        refusal = Refusal(role, subject, addressKey);
        if (refusal is not null)
        {
            OnRefused(refusal);
            return false;
        }

        ticket = new ClientTicket(() => Release(subject, addressKey));
        return true;
    }

    /// <summary>Client slots only admin and security clients may use: <see cref="HubOptions.ReservedPrivilegedShare"/> of <see cref="HubOptions.MaxClients"/>, rounded down.</summary>
    public int ReservedPrivilegedClients => ReservedOf(Options);

    private static int ReservedOf(HubOptions options) => (int)Math.Floor(options.MaxClients * options.ReservedPrivilegedShare);

    private string? Refusal(Role role, string subject, string? addressKey)
    {
        if (_stopping.IsCancellationRequested)
        {
            return HubMetrics.RefusalReasons.Stopping;
        }

        var options = Options;
        var privileged = IsPrivileged(role);
        lock (_admissionLock)
        {
            if (_admitted >= options.MaxClients)
            {
                return HubMetrics.RefusalReasons.MaxClients;
            }

            if (!privileged && _admitted >= options.MaxClients - ReservedOf(options))
            {
                return HubMetrics.RefusalReasons.ReservedForPrivileged;
            }

            if (options.MaxClientsPerSubject > 0 && _perSubject.GetValueOrDefault(subject) >= options.MaxClientsPerSubject)
            {
                return HubMetrics.RefusalReasons.MaxClientsPerSubject;
            }

            if (addressKey is not null && !privileged && options.MaxClientsPerAddress > 0 && _perAddress.GetValueOrDefault(addressKey) >= options.MaxClientsPerAddress)
            {
                return HubMetrics.RefusalReasons.MaxClientsPerAddress;
            }

            Volatile.Write(ref _admitted, _admitted + 1);
            _perSubject[subject] = _perSubject.GetValueOrDefault(subject) + 1;
            if (addressKey is not null)
            {
                _perAddress[addressKey] = _perAddress.GetValueOrDefault(addressKey) + 1;
            }

            return null;
        }
    }

    private void Release(string subject, string? addressKey)
    {
        lock (_admissionLock)
        {
            Volatile.Write(ref _admitted, _admitted - 1);
            Decrement(_perSubject, subject);
            if (addressKey is not null)
            {
                Decrement(_perAddress, addressKey);
            }
        }
    }

    private static void Decrement(Dictionary<string, int> counts, string key)
    {
        if (counts.TryGetValue(key, out var count) && count > 1)
        {
            counts[key] = count - 1;
        }
        else
        {
            counts.Remove(key);
        }
    }
}
