using System.Data.Common;
using OpenDcc.Core.Inventory;

namespace OpenDcc.Storage;

/// <summary>The approved device models in plain SQL that SQLite and PostgreSQL both speak.</summary>
internal sealed class SqlApprovedModelStore(Func<CancellationToken, Task<DbConnection>> open) : IApprovedModelStore
{
    public async Task<int> AddApprovedModelsAsync(IReadOnlyCollection<ApprovedModel> models, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(models);
        await using var connection = await open(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var insert = connection.Command("INSERT INTO approved_model (manufacturer, model) VALUES (@m, @d) ON CONFLICT DO NOTHING", transaction)
            .With("@m", null).With("@d", null);
        var added = 0;
        foreach (var model in models.Distinct())
        {
            insert.Parameters[0].Value = model.Manufacturer;
            insert.Parameters[1].Value = model.Model;
            added += await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return added;
    }

    public async Task<IReadOnlyList<ApprovedModel>> ListApprovedModelsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var select = connection.Command("SELECT manufacturer, model FROM approved_model ORDER BY manufacturer, model");
        return await select.ReadAllAsync(reader => new ApprovedModel(reader.GetString(0), reader.GetString(1)), cancellationToken);
    }

    public async Task<bool> IsApprovedAsync(ApprovedModel model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        await using var connection = await open(cancellationToken);
        // Approved when listed, or when nothing is listed at all (a test installation).
        await using var select = connection.Command(
                "SELECT CASE WHEN EXISTS (SELECT 1 FROM approved_model WHERE manufacturer = @m AND model = @d) " +
                "OR NOT EXISTS (SELECT 1 FROM approved_model) THEN 1 ELSE 0 END")
            .With("@m", model.Manufacturer).With("@d", model.Model);
        return Convert.ToInt32(await select.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 1;
    }
}
