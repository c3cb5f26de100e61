//! On-call rotas (issue 15.1): rotations of people taking turns, schedules of time rules
//! naming rotations, overrides for a period, requests to cover, and roles held by a
//! schedule instead of a named person. Times of day are stored as "HH:MM" London wall-clock
//! text, so both databases keep them alike.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables whose changes change who a role routes to. Dropping a table drops its triggers.
const ROUTING_TABLES: [&str; 6] = [
    "rotation",
    "rotation_member",
    "on_call_schedule",
    "schedule_rule",
    "schedule_override",
    "role_schedule",
];

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Role {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Rotation {
    Table,
    Id,
    OrgId,
    Name,
    ShiftCount,
    ShiftUnit,
    Handover,
    StartOn,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum RotationMember {
    Table,
    Id,
    RotationId,
    Position,
    PersonId,
}

#[derive(DeriveIden)]
enum OnCallSchedule {
    Table,
    Id,
    OrgId,
    Name,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum ScheduleRule {
    Table,
    Id,
    ScheduleId,
    Position,
    Days,
    FromTime,
    UntilTime,
    RotationId,
}

#[derive(DeriveIden)]
enum ScheduleOverride {
    Table,
    Id,
    ScheduleId,
    StartsAt,
    EndsAt,
    Kind,
    PersonId,
    ReplacesId,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum CoverRequest {
    Table,
    Id,
    ScheduleId,
    RequesterId,
    CoverId,
    StartsAt,
    EndsAt,
    Status,
    OverrideId,
    CreatedAt,
    AnsweredAt,
}

#[derive(DeriveIden)]
enum RoleSchedule {
    Table,
    Id,
    OrgId,
    RoleId,
    ScheduleId,
    CreatedAt,
    CreatedBy,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .to_owned()
}

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn big(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn at(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Rotation::Table)
                    .col(id(Rotation::Id))
                    .col(big(Rotation::OrgId))
                    .col(ColumnDef::new(Rotation::Name).string_len(120).not_null())
                    .col(ColumnDef::new(Rotation::ShiftCount).integer().not_null())
                    .col(ColumnDef::new(Rotation::ShiftUnit).string_len(8).not_null())
                    .col(ColumnDef::new(Rotation::Handover).string_len(5).not_null())
                    .col(ColumnDef::new(Rotation::StartOn).date().not_null())
                    .col(at(Rotation::CreatedAt))
                    .col(ColumnDef::new(Rotation::CreatedBy).big_integer().null())
                    .foreign_key(&mut fk(
                        "fk_rotation_org",
                        (Rotation::Table, Rotation::OrgId),
                        (Organisation::Table, Organisation::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_rotation_created_by",
                        (Rotation::Table, Rotation::CreatedBy),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RotationMember::Table)
                    .col(id(RotationMember::Id))
                    .col(big(RotationMember::RotationId))
                    .col(
                        ColumnDef::new(RotationMember::Position)
                            .integer()
                            .not_null(),
                    )
                    .col(big(RotationMember::PersonId))
                    .foreign_key(&mut fk(
                        "fk_rotation_member_rotation",
                        (RotationMember::Table, RotationMember::RotationId),
                        (Rotation::Table, Rotation::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_rotation_member_person",
                        (RotationMember::Table, RotationMember::PersonId),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_rotation_member_position")
                    .table(RotationMember::Table)
                    .col(RotationMember::RotationId)
                    .col(RotationMember::Position)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OnCallSchedule::Table)
                    .col(id(OnCallSchedule::Id))
                    .col(big(OnCallSchedule::OrgId))
                    .col(
                        ColumnDef::new(OnCallSchedule::Name)
                            .string_len(120)
                            .not_null(),
                    )
                    .col(at(OnCallSchedule::CreatedAt))
                    .col(
                        ColumnDef::new(OnCallSchedule::CreatedBy)
                            .big_integer()
                            .null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_on_call_schedule_org",
                        (OnCallSchedule::Table, OnCallSchedule::OrgId),
                        (Organisation::Table, Organisation::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_on_call_schedule_created_by",
                        (OnCallSchedule::Table, OnCallSchedule::CreatedBy),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScheduleRule::Table)
                    .col(id(ScheduleRule::Id))
                    .col(big(ScheduleRule::ScheduleId))
                    .col(ColumnDef::new(ScheduleRule::Position).integer().not_null())
                    .col(ColumnDef::new(ScheduleRule::Days).integer().not_null())
                    .col(
                        ColumnDef::new(ScheduleRule::FromTime)
                            .string_len(5)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ScheduleRule::UntilTime)
                            .string_len(5)
                            .not_null(),
                    )
                    .col(big(ScheduleRule::RotationId))
                    .foreign_key(&mut fk(
                        "fk_schedule_rule_schedule",
                        (ScheduleRule::Table, ScheduleRule::ScheduleId),
                        (OnCallSchedule::Table, OnCallSchedule::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_schedule_rule_rotation",
                        (ScheduleRule::Table, ScheduleRule::RotationId),
                        (Rotation::Table, Rotation::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScheduleOverride::Table)
                    .col(id(ScheduleOverride::Id))
                    .col(big(ScheduleOverride::ScheduleId))
                    .col(at(ScheduleOverride::StartsAt))
                    .col(at(ScheduleOverride::EndsAt))
                    .col(
                        ColumnDef::new(ScheduleOverride::Kind)
                            .string_len(8)
                            .not_null(),
                    )
                    .col(big(ScheduleOverride::PersonId))
                    .col(
                        ColumnDef::new(ScheduleOverride::ReplacesId)
                            .big_integer()
                            .null(),
                    )
                    .col(at(ScheduleOverride::CreatedAt))
                    .col(
                        ColumnDef::new(ScheduleOverride::CreatedBy)
                            .big_integer()
                            .null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_schedule_override_schedule",
                        (ScheduleOverride::Table, ScheduleOverride::ScheduleId),
                        (OnCallSchedule::Table, OnCallSchedule::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_schedule_override_person",
                        (ScheduleOverride::Table, ScheduleOverride::PersonId),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_schedule_override_replaces",
                        (ScheduleOverride::Table, ScheduleOverride::ReplacesId),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_schedule_override_created_by",
                        (ScheduleOverride::Table, ScheduleOverride::CreatedBy),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CoverRequest::Table)
                    .col(id(CoverRequest::Id))
                    .col(big(CoverRequest::ScheduleId))
                    .col(big(CoverRequest::RequesterId))
                    .col(big(CoverRequest::CoverId))
                    .col(at(CoverRequest::StartsAt))
                    .col(at(CoverRequest::EndsAt))
                    .col(
                        ColumnDef::new(CoverRequest::Status)
                            .string_len(10)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CoverRequest::OverrideId)
                            .big_integer()
                            .null(),
                    )
                    .col(at(CoverRequest::CreatedAt))
                    .col(
                        ColumnDef::new(CoverRequest::AnsweredAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_cover_request_schedule",
                        (CoverRequest::Table, CoverRequest::ScheduleId),
                        (OnCallSchedule::Table, OnCallSchedule::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_cover_request_requester",
                        (CoverRequest::Table, CoverRequest::RequesterId),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_cover_request_cover",
                        (CoverRequest::Table, CoverRequest::CoverId),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_cover_request_override",
                        (CoverRequest::Table, CoverRequest::OverrideId),
                        (ScheduleOverride::Table, ScheduleOverride::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoleSchedule::Table)
                    .col(id(RoleSchedule::Id))
                    .col(big(RoleSchedule::OrgId))
                    .col(big(RoleSchedule::RoleId))
                    .col(big(RoleSchedule::ScheduleId))
                    .col(at(RoleSchedule::CreatedAt))
                    .col(ColumnDef::new(RoleSchedule::CreatedBy).big_integer().null())
                    .foreign_key(&mut fk(
                        "fk_role_schedule_org",
                        (RoleSchedule::Table, RoleSchedule::OrgId),
                        (Organisation::Table, Organisation::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_role_schedule_role",
                        (RoleSchedule::Table, RoleSchedule::RoleId),
                        (Role::Table, Role::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_role_schedule_schedule",
                        (RoleSchedule::Table, RoleSchedule::ScheduleId),
                        (OnCallSchedule::Table, OnCallSchedule::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_role_schedule_created_by",
                        (RoleSchedule::Table, RoleSchedule::CreatedBy),
                        (Person::Table, Person::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_role_schedule_org_role")
                    .table(RoleSchedule::Table)
                    .col(RoleSchedule::OrgId)
                    .col(RoleSchedule::RoleId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Who holds a role now depends on these tables too: declaration plans read while the
        // change generation (migration 000010) had one value must go stale when they change.
        let db = manager.get_connection();
        for table in ROUTING_TABLES {
            match manager.get_database_backend() {
                DbBackend::Postgres => {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER generation_{table} AFTER INSERT OR UPDATE OR DELETE \
                         ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_change_generation()"
                    ))
                    .await?;
                }
                _ => {
                    for op in ["insert", "update", "delete"] {
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER generation_{table}_{op} AFTER {op} ON {table} \
                             BEGIN UPDATE change_generation SET value = value + 1 WHERE id = 1; END"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RoleSchedule::Table.into_iden(),
            CoverRequest::Table.into_iden(),
            ScheduleOverride::Table.into_iden(),
            ScheduleRule::Table.into_iden(),
            OnCallSchedule::Table.into_iden(),
            RotationMember::Table.into_iden(),
            Rotation::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
