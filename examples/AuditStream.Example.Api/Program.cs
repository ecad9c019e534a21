using AuditStream.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

// 1 of 2: the client (AuditStream:Client) and the request rules (AuditStream:Middleware) from appsettings.json.
builder.Services.AddAuditStream(builder.Configuration);

var app = builder.Build();

// 2 of 2: every request becomes an audit event, enqueued without waiting on the network.
app.UseAuditStream();

app.MapGet("/health", () => "ok");
app.MapGet("/orders/{id}", (string id) => Results.Ok(new { id, status = "shipped" }));

// A domain event for this endpoint, always recorded, with the consent id as its target.
app.MapPost("/consents/{id}/revoke", (string id) => Results.NoContent())
    .WithAudit("consent.revoke", category: "compliance", targetRouteValue: "id");

// Domain events from code.
app.MapPost("/invoices/{id}/pay", (string id, decimal amount, IAuditLogger audit) =>
{
    audit.Log("invoice.paid", targetId: id, category: "financial", metadata: new Dictionary<string, object?> { ["amount"] = amount });
    return Results.Ok();
});

app.Run();
