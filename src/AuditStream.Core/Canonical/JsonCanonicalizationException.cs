using System.Text.Json;

namespace AuditStream.Canonical;

/// <summary>
/// Thrown when JSON is valid syntax but has no RFC 8785 canonical form: duplicate member names, strings that are not
/// well-formed Unicode (lone surrogates, invalid UTF-8) or numbers outside the IEEE-754 double range (RFC 7493 I-JSON).
/// </summary>
public sealed class JsonCanonicalizationException : JsonException
{
    /// <summary>Creates the exception with a message saying what to fix.</summary>
    public JsonCanonicalizationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message saying what to fix and the error that revealed it.</summary>
    public JsonCanonicalizationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public JsonCanonicalizationException()
        : base("The JSON has no RFC 8785 canonical form.")
    {
    }
}
