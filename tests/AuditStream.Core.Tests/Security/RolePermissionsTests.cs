using AuditStream.Security;

namespace AuditStream.Core.Tests.Security;

public sealed class RolePermissionsTests
{
    // DESIGN.md §5, row by row: audit events, security alerts, compliance alerts, system alerts.
    private static readonly Dictionary<Role, string> s_table = new()
    {
        [Role.Admin] = "all all all all",
        [Role.Security] = "all all all —",
        [Role.Compliance] = "all — all —",
        [Role.Operator] = "all — — all",
        [Role.Auditor] = "all — — —",
        [Role.User] = "— — — —",
    };

    private static readonly MessageKind[] s_columns = [MessageKind.AuditEvent, MessageKind.SecurityAlert, MessageKind.ComplianceAlert, MessageKind.SystemAlert];

    public static TheoryData<Role, MessageKind, bool> Matrix()
    {
        var data = new TheoryData<Role, MessageKind, bool>();
        foreach (var (role, row) in s_table)
        {
            var cells = row.Split(' ');
            for (var i = 0; i < s_columns.Length; i++)
            {
                data.Add(role, s_columns[i], cells[i] == "all");
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public void Each_role_receives_exactly_the_message_kinds_of_the_table(Role role, MessageKind kind, bool receives)
    {
        Assert.Equal(receives, RolePermissions.Receives(role, kind));
        Assert.Equal(receives, AccessScope.ForAllTenants(role).Receives(kind));
    }

    [Fact]
    public void The_matrix_covers_every_role_and_kind()
    {
        Assert.Equal(24, Matrix().Count);
        Assert.Equal(Enum.GetValues<Role>().Length * Enum.GetValues<MessageKind>().Length, Matrix().Count);
    }

    [Theory]
    [InlineData(Role.Admin, true)]
    [InlineData(Role.Compliance, true)]
    [InlineData(Role.Security, false)]
    [InlineData(Role.Operator, false)]
    [InlineData(Role.Auditor, false)]
    [InlineData(Role.User, false)]
    public void Only_admin_and_compliance_read_pii(Role role, bool canRead)
    {
        Assert.Equal(canRead, RolePermissions.CanReadPii(role));
        Assert.Equal(canRead, AccessScope.ForTenant(role, "acme").CanReadPii);
    }

    [Theory]
    [InlineData("admin", Role.Admin)]
    [InlineData("security", Role.Security)]
    [InlineData("compliance", Role.Compliance)]
    [InlineData("operator", Role.Operator)]
    [InlineData("auditor", Role.Auditor)]
    [InlineData("user", Role.User)]
    [InlineData(" Admin ", Role.Admin)]
    [InlineData("SECURITY", Role.Security)]
    public void Role_claims_parse_case_insensitively(string claim, Role expected)
    {
        Assert.True(RoleNames.TryParse(claim, out var role));
        Assert.Equal(expected, role);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("administrator")]
    [InlineData("root")]
    [InlineData("0")]
    public void Unknown_role_claims_are_refused(string? claim)
    {
        Assert.False(RoleNames.TryParse(claim, out _));
    }

    [Fact]
    public void Role_names_round_trip()
    {
        foreach (var role in Enum.GetValues<Role>())
        {
            Assert.True(RoleNames.TryParse(RoleNames.ToName(role), out var parsed));
            Assert.Equal(role, parsed);
            Assert.Equal(RoleNames.ToName(role).ToLowerInvariant(), RoleNames.ToName(role));
        }
    }
}
