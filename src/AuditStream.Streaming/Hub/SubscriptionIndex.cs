using AuditStream.Events;
using AuditStream.Filters;
using AuditStream.Security;
using AuditStream.Streaming.Clients;

namespace AuditStream.Streaming.Hub;

/// <summary>
/// The live clients, indexed so that the fan-out asks only the clients that can want an event instead of calling every
/// client's filter (DESIGN.md §7): first by tenant (a single-tenant client sits in its tenant's partition, an all-tenant
/// client in a shared one), then by the most selective field its filter constrains: event type (exact or <c>auth.*</c>
/// prefix), else category, else severity, else a short match-all list. Candidates are still checked against the full
/// filter; the index only rules clients out. Not thread-safe: the fan-out guards it with its lock.
/// </summary>
internal sealed class SubscriptionIndex
{
    private readonly Dictionary<string, Partition> _tenants = new(StringComparer.Ordinal);
    private readonly Partition _allTenants = new();
    private readonly HashSet<IFanOutClient> _clients = [];

    /// <summary>Clients in the index.</summary>
    public int Count => _clients.Count;

    /// <summary>Every client in the index.</summary>
    public IReadOnlyCollection<IFanOutClient> All() => _clients;

    /// <summary>Indexes <paramref name="client"/> under its scope and current filter.</summary>
    public void Add(IFanOutClient client)
    {
        if (client.Subscription is not null)
        {
            throw new InvalidOperationException("The client is already indexed.");
        }

        var tenant = client.Scope.TenantId;
        Partition partition;
        if (tenant is null)
        {
            partition = _allTenants;
        }
        else if (!_tenants.TryGetValue(tenant, out partition!))
        {
            partition = new Partition();
            _tenants.Add(tenant, partition);
        }

        var entries = new List<ClientSet>();
        if (client.Scope.Receives(MessageKind.SecurityAlert) || client.Scope.Receives(MessageKind.ComplianceAlert) || client.Scope.Receives(MessageKind.SystemAlert))
        {
            entries.Add(partition.Alerts);
        }

        if (client.Scope.Receives(MessageKind.AuditEvent))
        {
            AddEventEntries(partition, client.Filter, entries);
        }

        foreach (var set in entries)
        {
            set.Add(client);
        }

        client.Subscription = new Registration(tenant, partition, entries);
        _clients.Add(client);
    }

    /// <summary>Removes <paramref name="client"/> if it is indexed.</summary>
    public void Remove(IFanOutClient client)
    {
        if (client.Subscription is not { } registration)
        {
            return;
        }

        foreach (var set in registration.Sets)
        {
            set.Remove(client);
        }

        client.Subscription = null;
        _clients.Remove(client);
        if (registration.Tenant is { } tenant && registration.Partition.IsEmpty)
        {
            _tenants.Remove(tenant);
        }
    }

    /// <summary>Adds to <paramref name="into"/> each client that may want audit event <paramref name="e"/>, once; <paramref name="stamp"/> must differ per call.</summary>
    public void CollectEventCandidates(AuditEvent e, long stamp, List<IFanOutClient> into)
    {
        _allTenants.CollectEventCandidates(e, stamp, into);
        if (e.TenantId is { } tenant && _tenants.TryGetValue(tenant, out var partition))
        {
            partition.CollectEventCandidates(e, stamp, into);
        }
    }

    /// <summary>Adds to <paramref name="into"/> each client whose role receives some alert kind and whose tenant scope covers <paramref name="e"/>.</summary>
    public void CollectAlertCandidates(AuditEvent e, List<IFanOutClient> into)
    {
        into.AddRange(_allTenants.Alerts.Items);
        if (e.TenantId is { } tenant && _tenants.TryGetValue(tenant, out var partition))
        {
            into.AddRange(partition.Alerts.Items);
        }
    }

    private static void AddEventEntries(Partition partition, CompiledFilter filter, List<ClientSet> entries)
    {
        if (filter.EventTypesOrNull is not null || filter.EventTypePrefixesOrNull is not null)
        {
            foreach (var type in filter.EventTypesOrNull ?? Empty)
            {
                entries.Add(partition.ByType.Get(type));
            }

            foreach (var prefix in filter.EventTypePrefixesOrNull ?? Empty)
            {
                entries.Add(partition.ByTypePrefix.Get(prefix));
            }
        }
        else if (filter.CategoriesOrNull is { } categories)
        {
            entries.AddRange(categories.Select(partition.ByCategory.Get));
        }
        else if (filter.SeveritiesOrNull is { } severities)
        {
            entries.AddRange(severities.Select(partition.BySeverity.Get));
        }
        else
        {
            entries.Add(partition.Unkeyed);
        }
    }

    private static readonly HashSet<string> Empty = [];

    /// <summary>Where a client was indexed, so it can be removed without searching.</summary>
    internal sealed record Registration(string? Tenant, Partition Partition, List<ClientSet> Sets);

    /// <summary>One tenant's clients (or the all-tenant clients), by the dimension each one is indexed under.</summary>
    internal sealed class Partition
    {
        public ClientSet Alerts { get; } = new();

        public ClientSet Unkeyed { get; } = new();

        public KeyedSets ByType { get; } = new();

        public KeyedSets ByTypePrefix { get; } = new();

        public KeyedSets ByCategory { get; } = new();

        public KeyedSets BySeverity { get; } = new();

        public bool IsEmpty => Alerts.Items.Count == 0 && Unkeyed.Items.Count == 0 && ByType.IsEmpty && ByTypePrefix.IsEmpty && ByCategory.IsEmpty && BySeverity.IsEmpty;

        public void CollectEventCandidates(AuditEvent e, long stamp, List<IFanOutClient> into)
        {
            Take(Unkeyed, stamp, into);
            if (e.Type is { } type)
            {
                if (ByType.TryGet(type, out var exact))
                {
                    Take(exact, stamp, into);
                }

                if (!ByTypePrefix.IsEmpty)
                {
                    // Every dotted prefix of the type, "a." then "a.b." for "a.b.c", looked up without allocating.
                    for (var dot = type.IndexOf('.', StringComparison.Ordinal); dot >= 0; dot = type.IndexOf('.', dot + 1))
                    {
                        if (ByTypePrefix.TryGet(type.AsSpan(0, dot + 1), out var prefixed))
                        {
                            Take(prefixed, stamp, into);
                        }
                    }
                }
            }

            if (e.Category is { } category && ByCategory.TryGet(category, out var byCategory))
            {
                Take(byCategory, stamp, into);
            }

            if (e.Severity is { } severity && BySeverity.TryGet(severity, out var bySeverity))
            {
                Take(bySeverity, stamp, into);
            }
        }

        private static void Take(ClientSet set, long stamp, List<IFanOutClient> into)
        {
            foreach (var client in set.Items)
            {
                // A client indexed under "auth.*" and "auth.failure" is hit twice by one event: take it once.
                if (client.IndexStamp != stamp)
                {
                    client.IndexStamp = stamp;
                    into.Add(client);
                }
            }
        }
    }

    /// <summary>Client sets by key, removed when they empty.</summary>
    internal sealed class KeyedSets
    {
        private readonly Dictionary<string, ClientSet> _sets = new(StringComparer.Ordinal);
        private readonly Dictionary<string, ClientSet>.AlternateLookup<ReadOnlySpan<char>> _lookup;

        public KeyedSets() => _lookup = _sets.GetAlternateLookup<ReadOnlySpan<char>>();

        public bool IsEmpty => _sets.Count == 0;

        public ClientSet Get(string key)
        {
            if (!_sets.TryGetValue(key, out var set))
            {
                set = new ClientSet(() => _sets.Remove(key));
                _sets.Add(key, set);
            }

            return set;
        }

        public bool TryGet(string key, out ClientSet set) => _sets.TryGetValue(key, out set!);

        public bool TryGet(ReadOnlySpan<char> key, out ClientSet set) => _lookup.TryGetValue(key, out set!);
    }

    /// <summary>A list of clients with O(1) removal (swap with the last).</summary>
    internal sealed class ClientSet(Action? onEmpty = null)
    {
        private readonly List<IFanOutClient> _items = [];
        private readonly Dictionary<IFanOutClient, int> _positions = [];

        public List<IFanOutClient> Items => _items;

        public void Add(IFanOutClient client)
        {
            if (_positions.TryAdd(client, _items.Count))
            {
                _items.Add(client);
            }
        }

        public void Remove(IFanOutClient client)
        {
            if (!_positions.Remove(client, out var position))
            {
                return;
            }

            var last = _items[^1];
            _items.RemoveAt(_items.Count - 1);
            if (!ReferenceEquals(last, client))
            {
                _items[position] = last;
                _positions[last] = position;
            }

            if (_items.Count == 0)
            {
                onEmpty?.Invoke();
            }
        }
    }
}
