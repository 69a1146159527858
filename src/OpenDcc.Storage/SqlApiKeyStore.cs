using System.Data.Common;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;

namespace OpenDcc.Storage;

/// <summary>REST API keys (their hashes) in plain SQL that SQLite and PostgreSQL both speak.</summary>
internal sealed class SqlApiKeyStore(Func<CancellationToken, Task<DbConnection>> open) : IApiKeyStore
{
    private const string Columns = "id, user_id, created_at, revoked_at";

    public async Task AddAsync(ApiKey key, string tokenHash, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrWhiteSpace(tokenHash);
        await using var connection = await open(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var user = connection.Command("SELECT COUNT(*) FROM dcc_user WHERE id = @id", transaction).With("@id", key.User.ToString()))
        {
            if (Convert.ToInt64(await user.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                throw new UnknownDccUserException(key.User);
            }
        }
        await using var insert = connection.Command($"INSERT INTO api_key ({Columns}, token_hash) VALUES (@id, @user, @created, @revoked, @hash)", transaction)
            .With("@id", key.Id)
            .With("@user", key.User.ToString())
            .With("@created", key.CreatedAt.ToUnixTimeTicks())
            .With("@revoked", key.RevokedAt?.ToUnixTimeTicks())
            .With("@hash", tokenHash);
        await insert.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<ApiKey?> FindByTokenHashAsync(string tokenHash, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"SELECT {Columns} FROM api_key WHERE token_hash = @hash").With("@hash", tokenHash);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<ApiKey>> ListAsync(Eui64 user, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"SELECT {Columns} FROM api_key WHERE user_id = @user ORDER BY created_at, id").With("@user", user.ToString());
        return await command.ReadAllAsync(Read, cancellationToken);
    }

    public async Task<bool> RevokeAsync(string id, Instant at, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command("UPDATE api_key SET revoked_at = @at WHERE id = @id AND revoked_at IS NULL")
            .With("@at", at.ToUnixTimeTicks())
            .With("@id", id);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static ApiKey Read(DbDataReader r) => new(
        r.GetString(0),
        Eui64.Parse(r.GetString(1)),
        Instant.FromUnixTimeTicks(r.GetInt64(2)),
        r.IsDBNull(3) ? null : Instant.FromUnixTimeTicks(r.GetInt64(3)));
}
