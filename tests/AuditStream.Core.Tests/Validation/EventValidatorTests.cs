using System.Text;
using System.Text.Json;
using AuditStream.Events;
using AuditStream.Validation;

namespace AuditStream.Core.Tests.Validation;

public sealed class EventValidatorTests
{
    private static readonly DateTimeOffset s_now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly EventValidator s_validator = new(new ValidationOptions(), new FixedTimeProvider(s_now));

    private static readonly AuditEvent s_valid = new()
    {
        Type = "consent.granted",
        Severity = "info",
        Category = "compliance",
    };

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static List<ValidationError> Errors(AuditEvent e, int length = 200)
    {
        var errors = new List<ValidationError>();
        var ok = s_validator.Validate(e, length, errors);
        Assert.Equal(errors.Count == 0, ok);
        return errors;
    }

    private static string Nested(string key, int objects) =>
        string.Concat(Enumerable.Repeat("{\"" + key + "\":", objects - 1)) + "{}" + new string('}', objects - 1);

    public static readonly Dictionary<string, (Func<AuditEvent, AuditEvent> Mutate, string Field, string Rule)> Cases = new()
    {
        ["type absent"] = (e => e with { Type = null }, "type", "is required"),
        ["type empty"] = (e => e with { Type = "" }, "type", "is required"),
        ["type upper case"] = (e => e with { Type = "Consent.Granted" }, "type", TypeRule),
        ["type empty segment"] = (e => e with { Type = "consent..granted" }, "type", TypeRule),
        ["type leading dot"] = (e => e with { Type = ".consent" }, "type", TypeRule),
        ["type trailing dot"] = (e => e with { Type = "consent." }, "type", TypeRule),
        ["type with space"] = (e => e with { Type = "consent granted" }, "type", TypeRule),
        ["type with wildcard"] = (e => e with { Type = "consent.*" }, "type", TypeRule),
        ["type of 129 chars"] = (e => e with { Type = "a." + new string('b', 127) }, "type", TypeRule),
        ["severity absent"] = (e => e with { Severity = null }, "severity", "is required"),
        ["severity unknown"] = (e => e with { Severity = "fatal" }, "severity", "must be one of critical, error, warning, info"),
        ["severity upper case"] = (e => e with { Severity = "ERROR" }, "severity", "must be one of critical, error, warning, info"),
        ["category absent"] = (e => e with { Category = null }, "category", "is required"),
        ["category upper case"] = (e => e with { Category = "Financial" }, "category", CategoryRule),
        ["category dotted"] = (e => e with { Category = "a.b" }, "category", CategoryRule),
        ["category of 65 chars"] = (e => e with { Category = new string('c', 65) }, "category", CategoryRule),
        ["outcome unknown"] = (e => e with { Outcome = "ok" }, "outcome", "must be one of success, failure"),
        ["actor_id too long"] = (e => e with { ActorId = new string('a', 257) }, "actor_id", "must be at most 256 characters"),
        ["actor_id empty"] = (e => e with { ActorId = "" }, "actor_id", "must not be empty"),
        ["actor_id with newline"] = (e => e with { ActorId = "u1\nFAKE LOG LINE" }, "actor_id", "must not contain control characters"),
        ["actor_type too long"] = (e => e with { ActorType = new string('a', 257) }, "actor_type", "must be at most 256 characters"),
        ["target_id too long"] = (e => e with { TargetId = new string('a', 257) }, "target_id", "must be at most 256 characters"),
        ["target_type with tab"] = (e => e with { TargetType = "doc\t" }, "target_type", "must not contain control characters"),
        ["action too long"] = (e => e with { Action = new string('a', 257) }, "action", "must be at most 256 characters"),
        ["tenant_id too long"] = (e => e with { TenantId = new string('t', 257) }, "tenant_id", "must be at most 256 characters"),
        ["tenant_id empty"] = (e => e with { TenantId = "" }, "tenant_id", "must not be empty"),
        ["subject_id too long"] = (e => e with { SubjectId = new string('s', 257) }, "subject_id", "must be at most 256 characters"),
        ["id nil"] = (e => e with { Id = Guid.Empty }, "id", "must not be the nil UUID"),
        ["occurred_at 25h ahead"] = (e => e with { OccurredAt = s_now.AddHours(25) }, "occurred_at", "must not be more than 24 hours ahead of the server clock"),
        ["occurred_at before 1970"] = (e => e with { OccurredAt = new DateTimeOffset(1969, 12, 31, 23, 59, 59, TimeSpan.Zero) }, "occurred_at", "must not be before 1970-01-01T00:00:00Z"),
        ["pii an array"] = (e => e with { SubjectId = "s1", Pii = Json("[1]") }, "pii", "must be a JSON object"),
        ["pii a string"] = (e => e with { SubjectId = "s1", Pii = Json("\"ann@example.com\"") }, "pii", "must be a JSON object"),
        ["pii without subject"] = (e => e with { Pii = Json("{\"email\":\"ann@example.com\"}") }, "pii", "requires subject_id (rule pii_requires_subject_id): pii is encrypted under the subject's key so that it can be erased"),
        ["metadata an array"] = (e => e with { Metadata = Json("[]") }, "metadata", "must be a JSON object"),
        ["metadata a number"] = (e => e with { Metadata = Json("5") }, "metadata", "must be a JSON object"),
        ["source.service too long"] = (e => e with { Source = new() { Service = new string('s', 257) } }, "source.service", "must be at most 256 characters"),
        ["source.ip a word"] = (e => e with { Source = new() { Ip = "localhost" } }, "source.ip", "must be an IPv4 or IPv6 address"),
        ["source.ip shorthand"] = (e => e with { Source = new() { Ip = "1" } }, "source.ip", "must be an IPv4 or IPv6 address"),
        ["source.ip with port"] = (e => e with { Source = new() { Ip = "10.0.0.1:443" } }, "source.ip", "must be an IPv4 or IPv6 address"),
        ["source.ip a list"] = (e => e with { Source = new() { Ip = "10.0.0.1, 10.0.0.2" } }, "source.ip", "must be an IPv4 or IPv6 address"),
        ["source.user_agent too long"] = (e => e with { Source = new() { UserAgent = new string('u', 1025) } }, "source.user_agent", "must be at most 1024 characters"),
        ["source.request_id with escape"] = (e => e with { Source = new() { RequestId = "r\u001b[31m" } }, "source.request_id", "must not contain control characters"),
        ["source.trace_id too long"] = (e => e with { Source = new() { TraceId = new string('0', 257) } }, "source.trace_id", "must be at most 256 characters"),
        ["compliance upper case"] = (e => e with { Compliance = ["gdpr", "SOX"] }, "compliance[1]", TagRule),
        ["compliance with space"] = (e => e with { Compliance = ["pci dss"] }, "compliance[0]", TagRule),
        ["compliance empty tag"] = (e => e with { Compliance = [""] }, "compliance[0]", TagRule),
        ["seq sent"] = (e => e with { Seq = 1 }, "seq", SetByLedger),
        ["timestamp sent"] = (e => e with { Timestamp = s_now }, "timestamp", SetByLedger),
        ["prev_hash sent"] = (e => e with { PrevHash = new string('0', 64) }, "prev_hash", SetByLedger),
        ["hash sent"] = (e => e with { Hash = new string('0', 64) }, "hash", SetByLedger),
    };

    private const string TypeRule = "must be a dotted lower-case name like consent.granted (letters, digits, _ and -, segments separated by dots, at most 128 chars)";
    private const string CategoryRule = "must be lower-case letters, digits, _ or - (at most 64 chars)";
    private const string TagRule = "must be a lower-case tag (letters, digits, _ or -, at most 32 chars)";
    private const string SetByLedger = "is set by the ledger and must not be sent";

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Each_rule_reports_exactly_its_field_and_message(string name)
    {
        var (mutate, field, rule) = Cases[name];
        var errors = Errors(mutate(s_valid));
        Assert.Equal([new ValidationError(field, rule)], errors);
    }

    [Fact]
    public void A_minimal_event_is_valid()
    {
        Assert.Empty(Errors(s_valid));
    }

    [Fact]
    public void A_fully_populated_event_is_valid()
    {
        var e = new AuditEvent
        {
            Id = Guid.CreateVersion7(),
            Type = "data.accessed",
            Severity = "warning",
            Category = "data",
            ActorId = "user-42",
            ActorType = "user",
            TargetId = "doc-7",
            TargetType = "document",
            Action = "read",
            Outcome = "success",
            OccurredAt = s_now.AddHours(23),
            TenantId = "acme",
            SubjectId = "subject-9",
            Pii = Json("{\"email\":\"ann@example.com\"}"),
            Source = new() { Service = "crm", Ip = "2001:db8::1", UserAgent = "curl/8.0", RequestId = "r-1", TraceId = "4bf92f3577b34da6a3ce929d0e0e4736" },
            Metadata = Json("{\"region\":\"eu\",\"tags\":[1,2,{\"x\":null}]}"),
            Compliance = ["gdpr", "hipaa"],
        };

        Assert.Empty(Errors(e));
    }

    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("2001:db8::1")]
    [InlineData("::ffff:192.0.2.1")]
    public void Ip_addresses_in_either_family_are_accepted(string ip)
    {
        Assert.Empty(Errors(s_valid with { Source = new() { Ip = ip } }));
    }

    [Fact]
    public void Every_broken_rule_is_reported_at_once_in_field_order()
    {
        var e = new AuditEvent
        {
            Type = "Bad Type",
            Severity = "fatal",
            Outcome = "maybe",
            Metadata = Json("[]"),
            Seq = 4,
        };

        var errors = Errors(e, length: 40_000);

        Assert.Equal(
            [
                new("event", "must be at most 32768 bytes serialized (was 40000)"),
                new("type", TypeRule),
                new("severity", "must be one of critical, error, warning, info"),
                new("category", "is required"),
                new("outcome", "must be one of success, failure"),
                new("metadata", "must be a JSON object"),
                new("seq", SetByLedger),
            ],
            errors);
    }

    [Fact]
    public void An_event_of_exactly_the_size_limit_is_accepted_and_one_byte_more_is_not()
    {
        Assert.Empty(Errors(s_valid, length: 32768));
        Assert.Equal([new ValidationError("event", "must be at most 32768 bytes serialized (was 32769)")], Errors(s_valid, length: 32769));
    }

    [Fact]
    public void Metadata_nested_sixteen_levels_is_accepted()
    {
        Assert.Empty(Errors(s_valid with { Metadata = Json(Nested("a", 16)) }));
    }

    [Fact]
    public void Metadata_nested_seventeen_levels_names_the_first_container_too_deep()
    {
        var errors = Errors(s_valid with { Metadata = Json(Nested("a", 17)) });

        var field = "metadata" + string.Concat(Enumerable.Repeat(".a", 16));
        Assert.Equal([new ValidationError(field, "must not be nested deeper than 16 levels")], errors);
    }

    [Fact]
    public void Metadata_depth_counts_arrays_and_names_their_index()
    {
        // metadata(1) → list(2) → [1](3) → deep(4): too deep for a limit of 3.
        var validator = new EventValidator(new ValidationOptions { MaxMetadataDepth = 3 }, new FixedTimeProvider(s_now));
        var errors = new List<ValidationError>();

        validator.Validate(s_valid with { Metadata = Json("{\"ok\":{\"x\":1},\"list\":[{}, {\"deep\":{}}]}") }, 100, errors);

        Assert.Equal([new ValidationError("metadata.list[1].deep", "must not be nested deeper than 3 levels")], errors);
    }

    [Fact]
    public void Pii_is_held_to_the_same_depth_limit()
    {
        var errors = Errors(s_valid with { SubjectId = "s1", Pii = Json(Nested("p", 17)) });

        Assert.Equal("pii" + string.Concat(Enumerable.Repeat(".p", 16)), Assert.Single(errors).Field);
    }

    [Fact]
    public void Occurred_at_up_to_the_skew_ahead_is_accepted()
    {
        Assert.Empty(Errors(s_valid with { OccurredAt = s_now.AddHours(24) }));
        Assert.Empty(Errors(s_valid with { OccurredAt = s_now.AddYears(-5) }));
    }

    [Fact]
    public void Limits_come_from_the_options_and_appear_in_the_messages()
    {
        var options = new ValidationOptions { MaxIdLength = 8, MaxEventBytes = 2048, MaxFutureSkew = TimeSpan.FromMinutes(5) };
        var validator = new EventValidator(options, new FixedTimeProvider(s_now));
        var errors = new List<ValidationError>();

        validator.Validate(s_valid with { ActorId = "123456789", OccurredAt = s_now.AddMinutes(6) }, 2049, errors);

        Assert.Equal(
            [
                new("event", "must be at most 2048 bytes serialized (was 2049)"),
                new("actor_id", "must be at most 8 characters"),
                new("occurred_at", "must not be more than 5 minutes ahead of the server clock"),
            ],
            errors);
    }

    [Fact]
    public void Options_defaults_are_those_of_the_design()
    {
        var options = new ValidationOptions();

        Assert.Equal(32 * 1024, options.MaxEventBytes);
        Assert.Equal(256, options.MaxIdLength);
        Assert.Equal(16, options.MaxMetadataDepth);
        Assert.Equal(1024, options.MaxUserAgentLength);
        Assert.Equal(TimeSpan.FromHours(24), options.MaxFutureSkew);
    }

    [Fact]
    public void Options_annotations_accept_the_defaults_and_refuse_nonsense()
    {
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        var defaults = new ValidationOptions();
        Assert.True(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(defaults, new(defaults), results, validateAllProperties: true));

        var bad = new ValidationOptions { MaxMetadataDepth = 0, MaxFutureSkew = TimeSpan.FromHours(-1) };
        Assert.False(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(bad, new(bad), results, validateAllProperties: true));
        Assert.Equal(["MaxMetadataDepth", "MaxFutureSkew"], results.SelectMany(r => r.MemberNames));
    }

    [Fact]
    public void Errors_are_appended_after_existing_ones()
    {
        var errors = new List<ValidationError> { new("earlier", "stays") };

        var ok = s_validator.Validate(s_valid with { Severity = "x" }, 10, errors);

        Assert.False(ok);
        Assert.Equal(2, errors.Count);
        Assert.Equal("earlier", errors[0].Field);
    }

    [Fact]
    public void Validation_error_reads_as_a_sentence()
    {
        Assert.Equal("severity must be one of critical, error, warning, info", new ValidationError("severity", "must be one of critical, error, warning, info").ToString());
    }

    [Theory]
    [InlineData("{\"type\":\"a\",\"foo\":1}", "foo", "is not a known field")]
    [InlineData("{\"weird key\":1}", "weird key", "is not a known field")]
    [InlineData("{\"source\":{\"ipx\":\"1\"}}", "source.ipx", "is not a known field")]
    [InlineData("{\"severity\":5}", "severity", "has the wrong JSON type")]
    [InlineData("{\"source\":{\"ip\":3}}", "source.ip", "has the wrong JSON type")]
    [InlineData("{\"compliance\":\"gdpr\"}", "compliance", "has the wrong JSON type")]
    [InlineData("{\"compliance\":[1]}", "compliance[0]", "has the wrong JSON type")]
    [InlineData("{\"seq\":\"1\"}", "seq", "has the wrong JSON type")]
    [InlineData("{\"id\":\"nope\"}", "id", "must be a UUID")]
    [InlineData("{\"occurred_at\":\"yesterday\"}", "occurred_at", "must be an RFC 3339 timestamp with Z or an offset, like 2026-01-31T12:00:00Z")]
    [InlineData("{\"occurred_at\":\"2026-01-31T12:00:00\"}", "occurred_at", "must be an RFC 3339 timestamp with Z or an offset, like 2026-01-31T12:00:00Z")]
    [InlineData("{\"occurred_at\":\"2026-01-31\"}", "occurred_at", "must be an RFC 3339 timestamp with Z or an offset, like 2026-01-31T12:00:00Z")]
    [InlineData("{\"occurred_at\":5}", "occurred_at", "has the wrong JSON type")]
    [InlineData("{\"actor_id\":\"\\udc00\"}", "actor_id", "must not hold a lone surrogate (a \\uD800-\\uDFFF escape without its pair)")]
    [InlineData("{\"type\":\"a\",\"type\":\"b\"}", "type", "must appear only once in its object (duplicate key)")]
    [InlineData("{\"source\":{\"ip\":\"1.2.3.4\",\"ip\":\"1.2.3.4\"}}", "source.ip", "must appear only once in its object (duplicate key)")]
    [InlineData("[1]", "event", "must be a JSON object")]
    [InlineData("{\"type\":x}", "type", "is not valid JSON (line 1, byte 9)")]
    [InlineData("{\"type\":", "type", "is not valid JSON (line 1, byte 9)")]
    public void Parse_errors_name_the_field_and_the_problem(string json, string field, string rule)
    {
        var exception = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(json, AuditJsonContext.Default.AuditEvent));

        Assert.Equal(new ValidationError(field, rule), EventValidator.ParseError(exception));
    }

    [Fact]
    public void Parse_error_for_json_nested_beyond_the_reader_limit_says_so()
    {
        var json = "{\"metadata\":" + new StringBuilder().Insert(0, "[", 70).Append(']', 70) + "}";

        var exception = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(json, AuditJsonContext.Default.AuditEvent));

        Assert.Equal("is nested too deeply", EventValidator.ParseError(exception).Rule);
    }
}
