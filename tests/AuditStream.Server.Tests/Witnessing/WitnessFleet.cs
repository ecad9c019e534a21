using AuditStream.Checkpoints;
using AuditStream.Server.Tests.Support;
using AuditStream.Server.Witness;
using Microsoft.AspNetCore.Builder;

namespace AuditStream.Server.Tests.Witnessing;

/// <summary>
/// A ledger signing key made before the server starts, and real <c>auditstream witness</c> servers (WitnessHost on
/// loopback ports) that trust it; the server under test is configured with their URLs and cosigner keys.
/// </summary>
internal sealed class WitnessFleet : IAsyncDisposable
{
    public const string Origin = "witnessing.test/ledger";

    private readonly List<Member> _members = [];

    public WitnessFleet()
    {
        Directory.CreateDirectory(Dir);
        LogKey = SigningKeyFile.LoadOrCreate(LogKeyPath, Origin);
    }

    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "auditstream-witnessing-tests", Guid.NewGuid().ToString("N"));

    public string LogKeyPath => Path.Combine(Dir, "ledger.key");

    /// <summary>The ledger's key (the server loads the same file): what a forked checkpoint in a split-view test is signed with.</summary>
    public NoteSigner LogKey { get; }

    public IReadOnlyList<Member> Members => _members;

    /// <summary>Starts a witness named <paramref name="name"/> on a free loopback port (or on <paramref name="port"/>).</summary>
    public async Task<Member> StartAsync(string name, int port = 0)
    {
        var member = _members.FirstOrDefault(m => m.Name == name);
        if (member is null)
        {
            member = new Member(name, NoteSigner.Generate(name), Path.Combine(Dir, name.Replace('/', '_') + ".state.json"));
            _members.Add(member);
        }

        var service = new WitnessService(member.Key, [LogKey.Verifier], WitnessState.Load(member.StatePath), TimeProvider.System);
        (member.App, member.Address) = await WitnessHost.StartAsync(service, $"http://127.0.0.1:{port}", CancellationToken.None);
        return member;
    }

    /// <summary>Server settings for witnesses <paramref name="members"/> with quorum <paramref name="quorum"/> and quick retries.</summary>
    public Dictionary<string, string?> Settings(int quorum, params Member[] members)
    {
        var settings = new Dictionary<string, string?>
        {
            ["AuditStream:Ledger:Origin"] = Origin,
            ["AuditStream:Ledger:SigningKeyPath"] = LogKeyPath,
            ["AuditStream:Witnessing:Quorum"] = quorum.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["AuditStream:Witnessing:RetryDelay"] = "00:00:00.100",
            ["AuditStream:Witnessing:MaxRetryDelay"] = "00:00:00.500",
            ["AuditStream:Witnessing:RequestTimeout"] = "00:00:05",
        };
        for (var i = 0; i < members.Length; i++)
        {
            settings[$"AuditStream:Witnessing:Witnesses:{i}:Url"] = members[i].Address.ToString();
            settings[$"AuditStream:Witnessing:Witnesses:{i}:PublicKey"] = members[i].VerifierKey;
        }

        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var member in _members)
        {
            await member.StopAsync();
            member.Key.Dispose();
        }

        LogKey.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>One witness: its key, state file and (while running) its app and address.</summary>
    internal sealed class Member(string name, NoteSigner key, string statePath)
    {
        public string Name { get; } = name;

        public NoteSigner Key { get; } = key;

        public string StatePath { get; } = statePath;

        public string VerifierKey => Cosignature.VerifierKey(Key);

        public CosignatureVerifier Verifier => CosignatureVerifier.Parse(VerifierKey);

        public WebApplication? App { get; set; }

        public Uri Address { get; set; } = new("http://127.0.0.1:9/");

        public async Task StopAsync()
        {
            if (App is { } app)
            {
                App = null;
                await app.DisposeAsync();
            }
        }
    }
}

/// <summary>Polls a condition until it holds or a generous deadline passes (never a fixed sleep).</summary>
internal static class Eventually
{
    public static async Task<T> GetAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var value = await read();
            if (done(value) || deadline.IsCancellationRequested)
            {
                return value;
            }

            await Task.Delay(50, CancellationToken.None);
        }
    }
}
