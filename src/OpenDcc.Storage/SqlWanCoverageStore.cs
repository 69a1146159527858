using System.Data.Common;
using System.Globalization;
using NodaTime.Text;
using OpenDcc.Core.Wan;

namespace OpenDcc.Storage;

/// <summary>
/// The SM WAN coverage data in plain SQL that SQLite and PostgreSQL both speak. An import (a national file is a row per
/// post code, some 1.8 million) is written <paramref name="rowsPerInsert"/> rows a statement: one suits in-process SQLite,
/// a few hundred PostgreSQL, where each statement costs a round trip.
/// </summary>
internal sealed class SqlWanCoverageStore(Func<CancellationToken, Task<DbConnection>> open, int rowsPerInsert) : IWanCoverageStore
{
    private const string Columns = "post_codes, csp_region, coverage_available, anticipated_coverage_date, wan_technology, connectivity_likelihood, auxiliary_equipment_required, additional_information";

    public async Task ReplaceAsync(IReadOnlyList<WanCoverage> coverage, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(coverage);
        if (coverage.GroupBy(c => c.PostCodes).FirstOrDefault(g => g.Count() > 1) is { } repeated)
        {
            throw new ArgumentException($"post codes {repeated.Key} are named by more than one entry", nameof(coverage));
        }
        await using var connection = await open(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var clear = connection.Command("DELETE FROM wan_coverage", transaction))
        {
            await clear.ExecuteNonQueryAsync(cancellationToken);
        }
        await Db.InBatchesAsync(
            coverage,
            rowsPerInsert,
            rows => connection.InsertRows(transaction, "wan_coverage", Columns, rows),
            (parameters, row, entry) =>
            {
                object?[] values =
                [
                    entry.PostCodes,
                    entry.Region.ToString(),
                    entry.CoverageAvailable ? 1 : 0,
                    WanCoverage.FormatDate(entry.AnticipatedCoverageDate),
                    entry.WanTechnology,
                    entry.ConnectivityLikelihood.ToString(),
                    entry.AuxiliaryEquipmentRequired,
                    entry.AdditionalInformation,
                ];
                for (var i = 0; i < values.Length; i++)
                {
                    parameters[(row * values.Length) + i].Value = values[i] ?? DBNull.Value;
                }
            },
            (insert, _, _) => insert.ExecuteNonQueryAsync(cancellationToken),
            cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<WanCoverage?> FindAsync(string postCode, CancellationToken cancellationToken = default)
    {
        var keys = WanCoverage.CoveringKeys(postCode);
        await using var connection = await open(cancellationToken);
        await using var select = connection.Command($"SELECT {Columns} FROM wan_coverage WHERE post_codes IN (@k0, @k1, @k2, @k3)")
            .With("@k0", keys[0]).With("@k1", keys[1]).With("@k2", keys[2]).With("@k3", keys[3]);
        var found = await select.ReadAllAsync(reader => new WanCoverage(
            reader.GetString(0),
            Enum.Parse<WanRegion>(reader.GetString(1)),
            Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture) != 0,
            reader.IsDBNull(3) ? null : LocalDatePattern.Iso.Parse(reader.GetString(3)).Value,
            reader.GetString(4),
            Enum.Parse<ConnectivityLikelihood>(reader.GetString(5)),
            reader.GetNullableString(6),
            reader.GetNullableString(7)), cancellationToken);
        // The most precise: the keys run from the post code itself to its area.
        return found.OrderBy(c => keys.ToList().IndexOf(c.PostCodes)).FirstOrDefault();
    }

    public async Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var count = connection.Command("SELECT COUNT(*) FROM wan_coverage");
        return Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }
}
