using System.Text;
using AuditStream.Filters;
using AuditStream.Ledger.Verification;
using AuditStream.Streaming.Protocol;
using AuditStream.Validation;

namespace AuditStream.Fuzz.Tests;

/// <summary>Inputs the fuzzers crashed on (shrunk by CsCheck), each with the documented failure it now gets instead.</summary>
public sealed class FuzzRegressionTests
{
    [Theory]
    [InlineData("{\"\\ud800\":\"exists\"}")]
    [InlineData("{\"type\":\"resume\",\"since_seq\":1,\"ledger_id\":\"\\ud800\"}")]
    public void A_websocket_message_with_a_lone_surrogate_escape_is_an_invalid_json_error_not_a_crash(string frame)
    {
        var message = ClientMessage.Parse(Encoding.UTF8.GetBytes(frame), 100);
        Assert.Equal(ClientMessageKind.Invalid, message.Kind);
        Assert.Equal(StreamErrorCodes.InvalidJson, message.ErrorCode);
        Assert.Contains("surrogate", message.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lone_surrogate_inside_a_filter_is_an_invalid_filter()
    {
        var message = ClientMessage.Parse("{\"type\":\"update_filters\",\"filters\":{\"event_types\":[\"\\udc00\"]}}"u8, 100);
        Assert.Equal(ClientMessageKind.Invalid, message.Kind);
        Assert.Equal(StreamErrorCodes.InvalidFilter, message.ErrorCode);
        Assert.Equal("filters.event_types[0]", message.ErrorField);
    }

    [Fact]
    public void A_websocket_frame_that_is_not_utf8_is_an_invalid_json_error()
    {
        byte[] frame = [.. "{\"type\":\"update_filters\",\"filters\":{\"match\":[{\"field\":\"metadata.a\",\"op\":\"eq\",\"value\":\""u8, 0xB6, .. "\"}]}}"u8];
        var message = ClientMessage.Parse(frame, 100);
        Assert.Equal(ClientMessageKind.Invalid, message.Kind);
        Assert.Equal(StreamErrorCodes.InvalidJson, message.ErrorCode);
        Assert.Contains("UTF-8", message.ErrorMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("eq", "\"\\ud800\"")]
    [InlineData("in", "[\"a\",\"\\udc00\"]")]
    public void A_match_value_with_a_lone_surrogate_is_refused_by_the_validator_instead_of_crashing_the_compiler(string op, string value)
    {
        var errors = new List<ValidationError>();
        var filter = StreamFilter.FromQuery([new("filters", $$"""{"match":[{"field":"metadata.a","op":"{{op}}","value":{{value}}}]}""")], errors);
        Assert.Empty(errors);
        Assert.False(FilterValidator.Validate(filter, 100, errors));
        Assert.Equal("filters.match[0].value", Assert.Single(errors).Field);
    }

    [Fact]
    public void A_filters_query_parameter_holding_a_lone_surrogate_is_refused_naming_filters()
    {
        var errors = new List<ValidationError>();
        var filter = StreamFilter.FromQuery([new("filters", "{\"event_types\":[\"a\uD800\"]}")], errors);
        Assert.Same(StreamFilter.All, filter);
        var error = Assert.Single(errors);
        Assert.Equal("filters", error.Field);
        Assert.Contains("surrogate", error.Rule, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"seq\":1,\"hash\":\"00\",\"outcome\":\"a\",\"outcome\":\"b\"}")]
    [InlineData("{\"seq\":\"1\",\"hash\":\"00\"}")]
    [InlineData("{\"seq\":1,\"hash\":5}")]
    [InlineData("{\"seq\":1.5,\"hash\":\"00\"}")]
    [InlineData("{\"seq\":1,\"hash\":\"00\",\"n\":1e400}")]
    [InlineData("{\"seq\":1,\"hash\":\"00\",\"\\ud800\":1}")]
    [InlineData("{\"seq\":1,\"hash\":\"00\",\"x\":\"\\ud800\"}")]
    [InlineData("{\"seq\":1,\"hash\":\"00\",\"x\":\"\uDE00\"}")]
    public void A_malformed_export_line_is_reported_as_modified_at_its_seq_not_thrown(string line)
    {
        var report = FuzzTargets.Export(line + "\n");
        Assert.Equal(TamperKind.Modified, report.Kind);
        Assert.Equal(1, report.FirstBadSeq);
    }
}
