using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace OpenDcc.Hub.Rest;

/// <summary>Declares the REST API's bearer API keys in the OpenAPI document, and that every operation needs one.</summary>
internal static class OpenApiBearerScheme
{
    private const string Name = "ApiKey";

    public static OpenApiOptions DeclareApiKeys(this OpenApiOptions options) => options.AddDocumentTransformer((document, _, _) =>
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[Name] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "odcc_ API key",
            Description = "A DCC user's API key from 'opendcc users api-key', sent as 'Authorization: Bearer odcc_…'.",
        };
        var requirement = new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Name, document)] = [] };
        foreach (var operation in document.Paths.Values.SelectMany(p => p.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>()))
        {
            operation.Security ??= [];
            operation.Security.Add(requirement);
        }
        return Task.CompletedTask;
    });
}
