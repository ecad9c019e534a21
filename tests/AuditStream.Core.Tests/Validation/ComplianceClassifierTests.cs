using AuditStream.Classification;
using AuditStream.Events;
using CsCheck;

namespace AuditStream.Core.Tests.Validation;

public sealed class ComplianceClassifierTests
{
    private static readonly ComplianceClassifier s_default = new(new ClassifierOptions());

    private static AuditEvent Event(string type, string category = "system", IReadOnlyList<string>? compliance = null) =>
        new() { Type = type, Severity = "info", Category = category, Compliance = compliance };

    [Theory]
    [InlineData("consent.granted", "system", "gdpr,tcpa")]
    [InlineData("consent.revoked", "compliance", "gdpr,tcpa")]
    [InlineData("consent.granted.v2", "system", "gdpr,tcpa")]
    [InlineData("call.initiated", "call", "tcpa")]
    [InlineData("data.accessed", "data", "gdpr")]
    [InlineData("payment.settled", "financial", "sox")]
    [InlineData("consent.granted", "financial", "gdpr,sox,tcpa")]
    [InlineData("call.recorded", "financial", "sox,tcpa")]
    [InlineData("consent", "system", "")]
    [InlineData("consentx.granted", "system", "")]
    [InlineData("auth.failure", "security", "")]
    [InlineData("user.data.accessed", "data", "")]
    public void Default_rules_tag_by_type_prefix_and_category(string type, string category, string expected)
    {
        var tags = s_default.Classify(Event(type, category));

        Assert.Equal(expected, string.Join(',', tags));
    }

    [Fact]
    public void Producer_tags_are_kept_lower_cased_deduplicated_and_sorted_with_rule_tags()
    {
        var tags = s_default.Classify(Event("consent.granted", compliance: ["HIPAA", "gdpr", "hipaa", "Tcpa"]));

        Assert.Equal(["gdpr", "hipaa", "tcpa"], tags);
    }

    [Fact]
    public void Producer_tags_alone_are_normalized_when_no_rule_matches()
    {
        Assert.Equal(["hipaa", "pci"], s_default.Classify(Event("lab.result", compliance: ["PCI", "hipaa"])));
    }

    [Fact]
    public void An_event_no_rule_matches_gets_no_tags()
    {
        Assert.Empty(s_default.Classify(Event("system.started")));
    }

    [Fact]
    public void Custom_rules_can_replace_the_defaults()
    {
        var options = new ClassifierOptions
        {
            IncludeDefaultRules = false,
            Rules =
            {
                new() { TypePattern = "patient.viewed", Tags = ["HIPAA"] },
                new() { Category = "health", Tags = ["hipaa", "gdpr"] },
            },
        };
        var classifier = new ComplianceClassifier(options);

        Assert.Equal(["hipaa"], classifier.Classify(Event("patient.viewed")));
        Assert.Empty(classifier.Classify(Event("patient.viewed.twice")));
        Assert.Equal(["gdpr", "hipaa"], classifier.Classify(Event("lab.result", "health")));
        Assert.Empty(classifier.Classify(Event("consent.granted")));
    }

    [Fact]
    public void Custom_rules_add_to_the_defaults_by_default()
    {
        var classifier = new ComplianceClassifier(new ClassifierOptions { Rules = { new() { TypePattern = "consent.*", Tags = ["ccpa"] } } });

        Assert.Equal(["ccpa", "gdpr", "tcpa"], classifier.Classify(Event("consent.granted")));
    }

    [Fact]
    public void A_rule_with_type_and_category_needs_both()
    {
        var classifier = new ComplianceClassifier(new ClassifierOptions
        {
            IncludeDefaultRules = false,
            Rules = { new() { TypePattern = "record.*", Category = "health", Tags = ["hipaa"] } },
        });

        Assert.Equal(["hipaa"], classifier.Classify(Event("record.read", "health")));
        Assert.Empty(classifier.Classify(Event("record.read", "system")));
        Assert.Empty(classifier.Classify(Event("chart.read", "health")));
    }

    [Theory]
    [InlineData(null, null, "x")]
    [InlineData("consent*", null, "gdpr")]
    [InlineData("Consent.*", null, "gdpr")]
    [InlineData(null, "Financial", "sox")]
    [InlineData("call.*", null, "pci dss")]
    public void Malformed_rules_are_rejected_at_construction(string? pattern, string? category, string tag)
    {
        var options = new ClassifierOptions { Rules = { new() { TypePattern = pattern, Category = category, Tags = [tag] } } };

        Assert.Throws<ArgumentException>(() => new ComplianceClassifier(options));
    }

    [Fact]
    public void The_default_rules_are_those_of_the_design()
    {
        var rules = ClassifierOptions.DefaultRules.Select(r => $"{r.TypePattern ?? "category " + r.Category}→{string.Join('+', r.Tags)}");

        Assert.Equal(["consent.*→gdpr+tcpa", "call.*→tcpa", "data.*→gdpr", "category financial→sox"], rules);
    }

    [Fact]
    public void Classifying_by_one_rule_allocates_nothing()
    {
        var e = Event("consent.granted");
        var already = Event("call.initiated", compliance: ["tcpa"]);
        s_default.Classify(e);
        s_default.Classify(already);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            s_default.Classify(e);
            s_default.Classify(already);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Classification_is_always_sorted_distinct_lower_case_and_keeps_every_producer_tag()
    {
        var types = Gen.OneOf("consent.granted", "call.ended", "data.erased", "auth.failure", "consent", "x.y.z");
        var categories = Gen.OneOf("financial", "system", "data");
        var producerTags = Gen.OneOf("gdpr", "GDPR", "sox", "hipaa", "Tcpa", "pci").Array[0, 4];

        Gen.Select(types, categories, producerTags).Sample((type, category, produced) =>
        {
            var tags = s_default.Classify(Event(type, category, produced));

            Assert.Equal(tags.Distinct().Order(StringComparer.Ordinal), tags);
            Assert.All(tags, t => Assert.Equal(t.ToLowerInvariant(), t));
            Assert.Superset(new HashSet<string>(produced.Select(p => p.ToLowerInvariant())), new HashSet<string>(tags));
        });
    }
}
