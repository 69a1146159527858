using System.Data.Common;
using NodaTime;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage;

/// <summary>DCC users and certificates in plain SQL that SQLite and PostgreSQL both speak.</summary>
internal sealed class SqlPartyStore(Func<CancellationToken, Task<DbConnection>> open) : IPartyStore
{
    /// <summary>A user's own key: a clash on it is a duplicate user; any other constraint failing is not.</summary>
    private static readonly UniqueKey UserId = new("dcc_user", ["id"], "dcc_user_pkey");

    private const string UserColumns = "id, name, roles, status, response_url, distributors";
    private const string CertificateColumns = "entity_id, role, issuer_name, serial_number, thumbprint, not_before, not_after, pem";

    /// <summary>A certificate as read: as added, and when it was revoked.</summary>
    private const string CertificateRead = CertificateColumns + ", revoked_at";

    public async Task AddUserAsync(DccUser user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"INSERT INTO dcc_user ({UserColumns}) VALUES (@id, @name, @roles, @status, @url, @distributors)")
            .With("@id", user.Id.ToString())
            .With("@name", user.Name)
            .With("@roles", user.Roles.Codes(" "))
            .With("@status", user.Status.ToString())
            .With("@url", user.ResponseUrl?.ToString())
            .With("@distributors", user.Distributors.ToCodes());
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (DbException e) when (UserId.IsViolatedBy(e))
        {
            throw new DuplicateDccUserException(user.Id);
        }
    }

    public async Task<DccUser?> FindUserAsync(Eui64 id, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"SELECT {UserColumns} FROM dcc_user WHERE id = @id").With("@id", id.ToString());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadUser(reader) : null;
    }

    public async Task<IReadOnlyList<DccUser>> ListUsersAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"SELECT {UserColumns} FROM dcc_user ORDER BY id");
        return await command.ReadAllAsync(ReadUser, cancellationToken);
    }

    public Task SetUserStatusAsync(Eui64 id, DccUserStatus status, CancellationToken cancellationToken = default) =>
        SetUserColumnAsync(id, "status", status.ToString(), cancellationToken);

    public Task SetDistributorsAsync(Eui64 id, DistributorSet distributors, CancellationToken cancellationToken = default) =>
        SetUserColumnAsync(id, "distributors", distributors.ToCodes(), cancellationToken);

    public Task SetResponseUrlAsync(Eui64 id, Uri? responseUrl, CancellationToken cancellationToken = default) =>
        SetUserColumnAsync(id, "response_url", DccUser.CheckResponseUrl(responseUrl)?.ToString(), cancellationToken);

    /// <summary>Sets one column of one user's row (<paramref name="column"/> is this class's own constant, never input).</summary>
    /// <exception cref="UnknownDccUserException">no user has that ID.</exception>
    private async Task SetUserColumnAsync(Eui64 id, string column, object? value, CancellationToken cancellationToken)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"UPDATE dcc_user SET {column} = @value WHERE id = @id")
            .With("@value", value)
            .With("@id", id.ToString());
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            throw new UnknownDccUserException(id);
        }
    }

    public async Task<bool> AddCertificateAsync(OrganisationCertificate certificate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        await using var connection = await open(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var user = connection.Command("SELECT COUNT(*) FROM dcc_user WHERE id = @id", transaction).With("@id", certificate.EntityId.ToString()))
        {
            if (Convert.ToInt64(await user.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                throw new UnknownDccUserException(certificate.EntityId);
            }
        }
        // Any key clashing (the thumbprint: this certificate again; issuer and serial: another one) inserts nothing, and
        // the row there says which; a concurrent insert of either is waited for and seen.
        await using var insert = connection.Command(
                $"INSERT INTO organisation_certificate ({CertificateColumns}) VALUES (@entity, @role, @issuer, @serial, @thumb, @nb, @na, @pem) ON CONFLICT DO NOTHING",
                transaction)
            .With("@entity", certificate.EntityId.ToString())
            .With("@role", (int)certificate.Role)
            .With("@issuer", certificate.IssuerName)
            .With("@serial", certificate.SerialNumber)
            .With("@thumb", certificate.Thumbprint)
            .With("@nb", certificate.NotBefore.ToUnixTimeTicks())
            .With("@na", certificate.NotAfter.ToUnixTimeTicks())
            .With("@pem", certificate.Pem);
        var added = await insert.ExecuteNonQueryAsync(cancellationToken) == 1;
        if (!added)
        {
            await using var holder = connection.Command(
                    $"SELECT {CertificateRead} FROM organisation_certificate WHERE issuer_name = @issuer AND serial_number = @serial AND thumbprint <> @thumb",
                    transaction)
                .With("@issuer", certificate.IssuerName)
                .With("@serial", certificate.SerialNumber)
                .With("@thumb", certificate.Thumbprint);
            await using var reader = await holder.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                throw new DuplicateCertificateSerialException(certificate, ReadCertificate(reader));
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return added;
    }

    public async Task<OrganisationCertificate?> FindCertificateAsync(string issuerName, string serialNumber, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"SELECT {CertificateRead} FROM organisation_certificate WHERE issuer_name = @issuer AND serial_number = @serial")
            .With("@issuer", issuerName)
            .With("@serial", serialNumber);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadCertificate(reader) : null;
    }

    public async Task<bool> RevokeCertificateAsync(string thumbprint, Instant at, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(thumbprint);
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command("UPDATE organisation_certificate SET revoked_at = @at WHERE thumbprint = @thumb AND revoked_at IS NULL")
            .With("@at", at.ToUnixTimeTicks())
            .With("@thumb", thumbprint);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<OrganisationCertificate>> ListCertificatesAsync(Eui64 entityId, CancellationToken cancellationToken = default)
    {
        await using var connection = await open(cancellationToken);
        await using var command = connection.Command($"SELECT {CertificateRead} FROM organisation_certificate WHERE entity_id = @id ORDER BY not_before, thumbprint")
            .With("@id", entityId.ToString());
        return await command.ReadAllAsync(ReadCertificate, cancellationToken);
    }

    private static DccUser ReadUser(DbDataReader r)
    {
        var roles = r.GetString(2).Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Aggregate(DccUserRole.None, (acc, code) => acc | DccUserRoles.Parse(code));
        var url = r.GetNullableString(4);
        return new DccUser(Eui64.Parse(r.GetString(0)), r.GetString(1), roles, Enum.Parse<DccUserStatus>(r.GetString(3)), url is null ? null : new Uri(url))
        {
            Distributors = DistributorSet.Parse(r.GetString(5)),
        };
    }

    private static OrganisationCertificate ReadCertificate(DbDataReader r) => new(
        Eui64.Parse(r.GetString(0)),
        (RemotePartyRole)r.GetInt32(1),
        r.GetString(2),
        r.GetString(3),
        r.GetString(4),
        Instant.FromUnixTimeTicks(r.GetInt64(5)),
        Instant.FromUnixTimeTicks(r.GetInt64(6)),
        r.GetString(7))
    {
        RevokedAt = r.IsDBNull(8) ? null : Instant.FromUnixTimeTicks(r.GetInt64(8)),
    };
}
