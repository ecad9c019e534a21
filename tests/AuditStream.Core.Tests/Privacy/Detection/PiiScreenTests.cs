using System.Text.Json;
using AuditStream.Events;
using AuditStream.Privacy.Detection;
using AuditStream.Validation;

namespace AuditStream.Core.Tests.Privacy.Detection;

public sealed class PiiScreenTests
{
    private static AuditEvent Event(string metadata, string? subject = null, string? pii = null) => new()
    {
        Type = "data.accessed",
        SubjectId = subject,
        Metadata = JsonDocument.Parse(metadata).RootElement.Clone(),
        Pii = pii is null ? null : JsonDocument.Parse(pii).RootElement.Clone(),
    };

    [Fact]
    public void Nothing_found_returns_the_same_event()
    {
        var e = Event("""{"region":"eu-west-1","attempt":3,"tags":["a","b"]}""");

        var result = PiiScreen.Apply(e, PiiPolicy.All(PiiAction.Reject), []);

        Assert.Same(e, result);
    }

    [Fact]
    public void Reject_names_every_field_by_path_and_the_detector_but_never_the_value()
    {
        var e = Event("""{"note":"mail ann@example.com","deep":{"list":["ok","card 4111111111111111"]}}""");
        var rejections = new List<ValidationError>();

        var result = PiiScreen.Apply(e, PiiPolicy.All(PiiAction.Reject), rejections);

        Assert.Same(e, result);
        Assert.Equal(["metadata.note", "metadata.deep.list[1]"], rejections.Select(r => r.Field));
        Assert.Contains("pii_detected", rejections[0].Rule, StringComparison.Ordinal);
        Assert.Contains("detector email", rejections[0].Rule, StringComparison.Ordinal);
        Assert.Contains("detector card", rejections[1].Rule, StringComparison.Ordinal);
        Assert.All(rejections, r => Assert.DoesNotContain("ann@", r.Rule, StringComparison.Ordinal));
        Assert.All(rejections, r => Assert.DoesNotContain("4111", r.Rule, StringComparison.Ordinal));
    }

    [Fact]
    public void Mask_replaces_each_match_in_place_and_tallies_it()
    {
        var tally = new PiiTally();
        var e = Event("""{"note":"from 10.0.0.1 and ann@example.com, fine","n":1}""");

        var result = PiiScreen.Apply(e, PiiPolicy.All(PiiAction.Mask), [], tally);

        Assert.Equal("""{"note":"from [pii:ip] and [pii:email], fine","n":1}""", result.Metadata!.Value.GetRawText());
        Assert.Equal(1, tally[PiiKind.Ip, PiiAction.Mask]);
        Assert.Equal(1, tally[PiiKind.Email, PiiAction.Mask]);
    }

    [Fact]
    public void Move_puts_the_whole_value_into_pii_under_its_path_beside_the_producers_pii()
    {
        var e = Event("""{"contact":{"text":"call +14155552671"}}""", subject: "s1", pii: """{"name":"Ann"}""");

        var result = PiiScreen.Apply(e, PiiPolicy.All(PiiAction.Move), []);

        Assert.Equal("""{"contact":{"text":"[pii:phone]"}}""", result.Metadata!.Value.GetRawText());
        Assert.Equal("""{"name":"Ann","metadata.contact.text":"call \u002B14155552671"}""", result.Pii!.Value.GetRawText());
        Assert.Equal("call +14155552671", result.Pii!.Value.GetProperty("metadata.contact.text").GetString());
    }

    [Fact]
    public void Move_without_a_subject_masks_instead_since_the_value_could_never_be_erased()
    {
        var tally = new PiiTally();
        var e = Event("""{"text":"call +14155552671"}""");

        var result = PiiScreen.Apply(e, PiiPolicy.All(PiiAction.Move), [], tally);

        Assert.Equal("""{"text":"call [pii:phone]"}""", result.Metadata!.Value.GetRawText());
        Assert.Null(result.Pii);
        Assert.Equal(1, tally[PiiKind.Phone, PiiAction.Mask]);
    }

    [Fact]
    public void Per_detector_actions_apply_and_off_detectors_are_ignored()
    {
        var policy = new PiiPolicy(new Dictionary<PiiKind, PiiAction> { [PiiKind.Email] = PiiAction.Mask, [PiiKind.Ip] = PiiAction.Off });
        var e = Event("""{"a":"ann@example.com via 10.0.0.1"}""");

        var result = PiiScreen.Apply(e, policy, []);

        Assert.Equal("""{"a":"[pii:email] via 10.0.0.1"}""", result.Metadata!.Value.GetRawText());
    }

    [Fact]
    public void An_escaped_string_is_scanned_unescaped()
    {
        var rejections = new List<ValidationError>();

        PiiScreen.Apply(Event("""{"a":"ann\u0040example.com"}"""), PiiPolicy.All(PiiAction.Reject), rejections);

        Assert.Equal("metadata.a", Assert.Single(rejections).Field);
    }

    [Fact]
    public void The_pii_object_and_the_schema_fields_are_never_scanned()
    {
        var e = Event("""{"ok":true}""", subject: "s1", pii: """{"email":"ann@example.com"}""") with { ActorId = "ann@example.com", Source = new EventSource { Ip = "10.0.0.1" } };

        Assert.Same(e, PiiScreen.Apply(e, PiiPolicy.All(PiiAction.Reject), []));
    }
}
