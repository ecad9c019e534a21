using AuditStream.Server.Cli;

var parsed = AuditStreamCommand.Create().Parse(args);
if (parsed.Errors.Count > 0)
{
    // Usage errors exit 2 (verify documents 0 valid, 1 tampered, 2 usage).
    foreach (var error in parsed.Errors)
    {
        Console.Error.WriteLine(error.Message);
    }

    Console.Error.WriteLine("Run 'auditstream --help' for usage.");
    return 2;
}

return await parsed.InvokeAsync();
