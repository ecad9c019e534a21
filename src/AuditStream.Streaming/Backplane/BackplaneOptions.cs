using System.ComponentModel.DataAnnotations;
using StackExchange.Redis;

namespace AuditStream.Streaming.Backplane;

/// <summary>
/// The backplane between instances of one shared ledger (DESIGN.md §6), bound from <c>AuditStream:Backplane</c>: with
/// <see cref="Redis"/> set, commits are announced on Redis pub/sub so followers wake at once instead of at their next poll.
/// </summary>
public sealed class BackplaneOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "AuditStream:Backplane";

    /// <summary>The full key of <see cref="Redis"/>, for messages.</summary>
    public const string RedisKey = SectionName + ":" + nameof(Redis);

    /// <summary>
    /// A StackExchange.Redis configuration string (<c>redis.internal:6379,password=…,ssl=true</c>). When set, the server
    /// announces each commit on the ledger's channel (<see cref="RedisCommitSignal.ChannelName"/>) and listens to the other
    /// instances' announcements. An unreachable Redis delays followers by up to their poll interval and loses nothing.
    /// </summary>
    /// <value>Default none: no Redis backplane.</value>
    public string? Redis { get; set; }

    /// <summary>
    /// Longest time one announcement (or the first connection) may take before it is counted as failed; the writer never
    /// waits for it either way. Also StackExchange.Redis's connect and async timeouts.
    /// </summary>
    /// <value>Default 1 second.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Most announcements awaiting Redis's answer at once; a commit beyond them is not announced (counted as
    /// <c>dropped</c>), so a Redis that hangs costs bounded memory.
    /// </summary>
    /// <value>Default 1024 announcements.</value>
    [Range(1, 1_000_000)]
    public int MaxPendingPublishes { get; set; } = 1024;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Redis is null)
        {
            yield break;
        }

        // The message never repeats the string: it may hold a password.
        string? problem;
        try
        {
            var parsed = ConfigurationOptions.Parse(Redis);
            problem = parsed.EndPoints.Count == 0 ? "names no endpoint (host:port)" : null;
        }
        catch (ArgumentException exception)
        {
            problem = $"is not a StackExchange.Redis configuration string ({exception.Message})";
        }

        if (problem is not null)
        {
            yield return new ValidationResult($"{RedisKey} (env {RedisKey.Replace(":", "__", StringComparison.Ordinal)}) {problem}; e.g. localhost:6379,password=…");
        }
    }
}
