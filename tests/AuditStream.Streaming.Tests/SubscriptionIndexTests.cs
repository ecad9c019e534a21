using AuditStream.Events;
using AuditStream.Filters;
using AuditStream.Security;
using AuditStream.Streaming.Clients;
using AuditStream.Streaming.Hub;
using CsCheck;

namespace AuditStream.Streaming.Tests;

public sealed class SubscriptionIndexTests
{
    private static readonly string[] s_types = ["auth.failure", "auth.mfa.ok", "consent.granted", "data.accessed", "security.incident"];
    private static readonly string[] s_patterns = [.. s_types, "auth.*", "auth.mfa.*", "data.*"];
    private static readonly string[] s_categories = ["security", "compliance", "data", "system"];
    private static readonly string[] s_severities = ["critical", "error", "warning", "info"];
    private static readonly string?[] s_tenants = ["acme", "globex", null];

    private static readonly Gen<AuditEvent> s_event = Gen.Select(
        Gen.OneOf(s_types), Gen.OneOf(s_categories), Gen.OneOf(s_severities), Gen.OneOf(s_tenants), Gen.OneOf("u1", "u2"),
        static (type, category, severity, tenant, actor) => new AuditEvent { Type = type, Category = category, Severity = severity, TenantId = tenant, ActorId = actor });

    private static readonly Gen<StreamFilter> s_filter = Gen.Select(
        Gen.OneOf(s_patterns).Array[0, 3], Gen.OneOf(s_categories).Array[0, 2], Gen.OneOf(s_severities).Array[0, 2], Gen.OneOf("u1", "u2").Array[0, 1],
        static (types, categories, severities, actors) => new StreamFilter
        {
            EventTypes = types.Length == 0 ? null : types.Distinct().ToArray(),
            Categories = categories.Length == 0 ? null : categories.Distinct().ToArray(),
            Severities = severities.Length == 0 ? null : severities.Distinct().ToArray(),
            ActorIds = actors.Length == 0 ? null : actors,
        });

    private static readonly Gen<FakeClient> s_client = Gen.Select(
        Gen.OneOf(Enum.GetValues<Role>()), Gen.OneOf("acme", "globex", "*"), s_filter,
        static (role, tenant, filter) => new FakeClient(
            tenant == "*" ? AccessScope.ForAllTenants(role) : AccessScope.ForTenant(role, tenant),
            CompiledFilter.Compile(filter, TimeProvider.System)));

    [Fact]
    public void Every_client_that_wants_an_event_is_a_candidate_once_and_no_candidate_is_outside_its_tenant_or_type_keys()
    {
        Gen.Select(s_client.List[0, 40], s_event.List[1, 30], Gen.Int[0, 40]).Sample(static (clients, events, removeCount) =>
        {
            var index = new SubscriptionIndex();
            foreach (var client in clients)
            {
                index.Add(client);
            }

            var removed = clients.Take(removeCount).ToHashSet();
            foreach (var client in removed)
            {
                index.Remove(client);
            }

            Assert.Equal(clients.Count - removed.Count, index.Count);
            var stamp = 0L;
            foreach (var e in events)
            {
                var candidates = new List<IFanOutClient>();
                index.CollectEventCandidates(e, ++stamp, candidates);

                Assert.Equal(candidates.Count, candidates.Distinct().Count());
                var wanted = clients.Where(c => !removed.Contains(c) && c.Scope.CanSee(e) && c.Filter.Matches(e));
                Assert.Empty(wanted.Except(candidates));
                foreach (var candidate in candidates)
                {
                    Assert.DoesNotContain(candidate, removed);
                    Assert.True(candidate.Scope.CoversTenant(e.TenantId));
                    Assert.True(candidate.Scope.Receives(MessageKind.AuditEvent));
                    if (candidate.Filter.EventTypesOrNull is { } exact)
                    {
                        var prefixes = candidate.Filter.EventTypePrefixesOrNull ?? new HashSet<string>();
                        Assert.True(exact.Contains(e.Type!) || prefixes.Any(p => e.Type!.StartsWith(p, StringComparison.Ordinal)));
                    }
                }

                var alertCandidates = new List<IFanOutClient>();
                index.CollectAlertCandidates(e, alertCandidates);
                var alertable = clients.Where(c => !removed.Contains(c) && c.Scope.CoversTenant(e.TenantId)
                    && (c.Scope.Receives(MessageKind.SecurityAlert) || c.Scope.Receives(MessageKind.ComplianceAlert) || c.Scope.Receives(MessageKind.SystemAlert)));
                Assert.Equal(alertable.Cast<IFanOutClient>().ToHashSet(), alertCandidates.ToHashSet());
            }
        }, iter: 300);
    }

    [Fact]
    public void A_client_filtering_on_one_type_is_not_asked_about_others()
    {
        var index = new SubscriptionIndex();
        var selective = new FakeClient(AccessScope.ForTenant(Role.Auditor, "acme"), CompiledFilter.Compile(new StreamFilter { EventTypes = ["consent.granted"] }, TimeProvider.System));
        var everything = new FakeClient(AccessScope.ForAllTenants(Role.Admin), CompiledFilter.All);
        index.Add(selective);
        index.Add(everything);

        var candidates = new List<IFanOutClient>();
        index.CollectEventCandidates(new AuditEvent { Type = "data.accessed", TenantId = "acme" }, 1, candidates);
        Assert.Equal([everything], candidates);

        candidates.Clear();
        index.CollectEventCandidates(new AuditEvent { Type = "consent.granted", TenantId = "acme" }, 2, candidates);
        Assert.Equal(2, candidates.Count);

        index.Remove(selective);
        index.Remove(everything);
        Assert.Equal(0, index.Count);
        candidates.Clear();
        index.CollectEventCandidates(new AuditEvent { Type = "consent.granted", TenantId = "acme" }, 3, candidates);
        Assert.Empty(candidates);
    }

    private sealed class FakeClient(AccessScope scope, CompiledFilter filter) : IFanOutClient
    {
        public AccessScope Scope { get; } = scope;

        public CompiledFilter Filter { get; } = filter;

        public SubscriptionIndex.Registration? Subscription { get; set; }

        public long IndexStamp { get; set; }

        public long LiveAfter { get; set; }

        public bool SignalPending { get; set; }

        public OfferResult Offer(RecordFrames record, bool live, bool signal) => throw new NotSupportedException();

        public void Signal() => throw new NotSupportedException();

        public void SlowConsumer() => throw new NotSupportedException();

        public void RequestClose(int status, string description) => throw new NotSupportedException();
    }
}
