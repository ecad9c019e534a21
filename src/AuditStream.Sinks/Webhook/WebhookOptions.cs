using System.ComponentModel.DataAnnotations;
using AuditStream.Sinks.Runtime;

namespace AuditStream.Sinks.Webhook;

/// <summary>A webhook sink: JSON batches POSTed to a URL, signed in the Standard Webhooks style.</summary>
public sealed class WebhookOptions : SinkOptions
{
    /// <summary>Creates the options; a listed webhook is enabled unless it says <c>Enabled: false</c>.</summary>
    public WebhookOptions() => Enabled = true;

    /// <summary>The sink's name (unique among sinks; keys its position and dead letters).</summary>
    /// <value>Required.</value>
    [Required]
    [RegularExpression("^[a-z0-9][a-z0-9_.-]{0,63}$", ErrorMessage = "Name must be 1-64 lower-case letters, digits, '_', '.' or '-'.")]
    public string Name { get; set; } = "";

    /// <summary>The receiver's URL.</summary>
    /// <value>Required.</value>
    [Required]
    public Uri? Url { get; set; }

    /// <summary>
    /// Signing secrets, at most two (the new one first while rotating): each request carries one signature per secret.
    /// A secret is <c>whsec_</c> and base64 (as Standard Webhooks issues them) or any other string, used as UTF-8 bytes.
    /// </summary>
    /// <value>Default none: requests are not signed.</value>
    [MaxLength(2)]
    public IList<string> Secrets { get; set; } = [];
}
