namespace AuditStream.Filters;

/// <summary>The operators of a <see cref="MatchPredicate"/>; see its remarks for their meaning.</summary>
internal enum MatchOp
{
    Eq,
    Neq,
    In,
    Prefix,
    Exists,
    Gt,
    Lt,
}
