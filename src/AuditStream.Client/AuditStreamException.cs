using System.Net;

namespace AuditStream.Client;

/// <summary>The server refused a request or a stream connection; the message says why and what to do.</summary>
public sealed class AuditStreamException : Exception
{
    public AuditStreamException()
    {
    }

    public AuditStreamException(string message)
        : base(message)
    {
    }

    public AuditStreamException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for an HTTP answer.</summary>
    public AuditStreamException(string message, HttpStatusCode? statusCode, string? problem = null)
        : base(message)
    {
        StatusCode = statusCode;
        Problem = problem;
    }

    /// <summary>The HTTP status, when the server answered.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The server's problem details body (RFC 7807), when it sent one.</summary>
    public string? Problem { get; }
}
