//! Escalation: policies (ordered levels of targets with time-outs), the state of each
//! escalating task or command acknowledgement, the notification outbox (unique per task,
//! level, round, recipient and channel), every delivery attempt, and people's and
//! organisations' notification settings.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

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
enum IncidentCommand {
    Table,
    AcknowledgedAt,
}

#[derive(DeriveIden)]
enum EscalationPolicy {
    Table,
    Id,
    OrgId,
    RepeatCount,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum EscalationLevel {
    Table,
    Id,
    PolicyId,
    Position,
    TimeoutSeconds,
    Targets,
}

#[derive(DeriveIden)]
enum Escalation {
    Table,
    Id,
    Subject,
    SubjectId,
    IncidentId,
    OrgId,
    Level,
    Round,
    FiresAt,
    AcknowledgedAt,
    Flagged,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Notification {
    Table,
    Id,
    Subject,
    SubjectId,
    IncidentId,
    Level,
    Round,
    RecipientKey,
    PersonId,
    Channel,
    Title,
    Body,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastError,
    CreatedAt,
    DeliveredAt,
    ReadAt,
    LinkUsedAt,
}

#[derive(DeriveIden)]
enum DeliveryAttempt {
    Table,
    Id,
    NotificationId,
    At,
    Ok,
    Detail,
}

#[derive(DeriveIden)]
enum NotificationPref {
    Table,
    PersonId,
    Email,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Webhook {
    Table,
    Id,
    OrgId,
    Url,
    Secret,
    Enabled,
    UpdatedAt,
}

fn id<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn at<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn at_null<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(c);
    }
    if unique {
        i.unique();
    }
    manager.create_index(i.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IncidentCommand::Table)
                    .add_column(at_null(IncidentCommand::AcknowledgedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EscalationPolicy::Table)
                    .col(id(EscalationPolicy::Id))
                    .col(ColumnDef::new(EscalationPolicy::OrgId).big_integer().null())
                    .col(
                        ColumnDef::new(EscalationPolicy::RepeatCount)
                            .integer()
                            .not_null(),
                    )
                    .col(at(EscalationPolicy::UpdatedAt))
                    .col(
                        ColumnDef::new(EscalationPolicy::UpdatedBy)
                            .big_integer()
                            .null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_escalation_policy_org",
                        (EscalationPolicy::Table, EscalationPolicy::OrgId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_escalation_policy_org",
            EscalationPolicy::Table,
            vec![EscalationPolicy::OrgId.into_iden()],
            true,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(EscalationLevel::Table)
                    .col(id(EscalationLevel::Id))
                    .col(
                        ColumnDef::new(EscalationLevel::PolicyId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(EscalationLevel::Position)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(EscalationLevel::TimeoutSeconds)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(EscalationLevel::Targets).text().not_null())
                    .foreign_key(&mut fk(
                        "fk_escalation_level_policy",
                        (EscalationLevel::Table, EscalationLevel::PolicyId),
                        (EscalationPolicy::Table, EscalationPolicy::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Escalation::Table)
                    .col(id(Escalation::Id))
                    .col(
                        ColumnDef::new(Escalation::Subject)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Escalation::SubjectId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Escalation::IncidentId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Escalation::OrgId).big_integer().not_null())
                    .col(ColumnDef::new(Escalation::Level).integer().not_null())
                    .col(ColumnDef::new(Escalation::Round).integer().not_null())
                    .col(at_null(Escalation::FiresAt))
                    .col(at_null(Escalation::AcknowledgedAt))
                    .col(ColumnDef::new(Escalation::Flagged).boolean().not_null())
                    .col(at(Escalation::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_escalation_subject",
            Escalation::Table,
            vec![
                Escalation::Subject.into_iden(),
                Escalation::SubjectId.into_iden(),
            ],
            true,
        )
        .await?;
        index(
            manager,
            "idx_escalation_fires",
            Escalation::Table,
            vec![Escalation::FiresAt.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            "idx_escalation_incident",
            Escalation::Table,
            vec![Escalation::IncidentId.into_iden()],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Notification::Table)
                    .col(id(Notification::Id))
                    .col(
                        ColumnDef::new(Notification::Subject)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Notification::SubjectId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Notification::IncidentId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Notification::Level).integer().not_null())
                    .col(ColumnDef::new(Notification::Round).integer().not_null())
                    .col(
                        ColumnDef::new(Notification::RecipientKey)
                            .string_len(40)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Notification::PersonId).big_integer().null())
                    .col(
                        ColumnDef::new(Notification::Channel)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Notification::Title)
                            .string_len(300)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Notification::Body).text().not_null())
                    .col(
                        ColumnDef::new(Notification::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Notification::Attempts).integer().not_null())
                    .col(at(Notification::NextAttemptAt))
                    .col(at_null(Notification::ClaimedUntil))
                    .col(ColumnDef::new(Notification::LastError).text().null())
                    .col(at(Notification::CreatedAt))
                    .col(at_null(Notification::DeliveredAt))
                    .col(at_null(Notification::ReadAt))
                    .col(at_null(Notification::LinkUsedAt))
                    .foreign_key(&mut fk(
                        "fk_notification_person",
                        (Notification::Table, Notification::PersonId),
                        (Person::Table, Person::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_notification_key",
            Notification::Table,
            vec![
                Notification::Subject.into_iden(),
                Notification::SubjectId.into_iden(),
                Notification::Level.into_iden(),
                Notification::Round.into_iden(),
                Notification::RecipientKey.into_iden(),
                Notification::Channel.into_iden(),
            ],
            true,
        )
        .await?;
        index(
            manager,
            "idx_notification_due",
            Notification::Table,
            vec![
                Notification::Status.into_iden(),
                Notification::NextAttemptAt.into_iden(),
            ],
            false,
        )
        .await?;
        index(
            manager,
            "idx_notification_person",
            Notification::Table,
            vec![
                Notification::PersonId.into_iden(),
                Notification::ReadAt.into_iden(),
            ],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(DeliveryAttempt::Table)
                    .col(id(DeliveryAttempt::Id))
                    .col(
                        ColumnDef::new(DeliveryAttempt::NotificationId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(at(DeliveryAttempt::At))
                    .col(ColumnDef::new(DeliveryAttempt::Ok).boolean().not_null())
                    .col(ColumnDef::new(DeliveryAttempt::Detail).text().not_null())
                    .foreign_key(&mut fk(
                        "fk_delivery_attempt_notification",
                        (DeliveryAttempt::Table, DeliveryAttempt::NotificationId),
                        (Notification::Table, Notification::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_delivery_attempt_notification",
            DeliveryAttempt::Table,
            vec![DeliveryAttempt::NotificationId.into_iden()],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotificationPref::Table)
                    .col(
                        ColumnDef::new(NotificationPref::PersonId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(NotificationPref::Email).boolean().not_null())
                    .col(at(NotificationPref::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_notification_pref_person",
                        (NotificationPref::Table, NotificationPref::PersonId),
                        (Person::Table, Person::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Webhook::Table)
                    .col(id(Webhook::Id))
                    .col(ColumnDef::new(Webhook::OrgId).big_integer().not_null())
                    .col(ColumnDef::new(Webhook::Url).string_len(500).not_null())
                    .col(ColumnDef::new(Webhook::Secret).string_len(100).not_null())
                    .col(ColumnDef::new(Webhook::Enabled).boolean().not_null())
                    .col(at(Webhook::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_webhook_org",
                        (Webhook::Table, Webhook::OrgId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_webhook_org",
            Webhook::Table,
            vec![Webhook::OrgId.into_iden()],
            true,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Webhook::Table.into_iden(),
            NotificationPref::Table.into_iden(),
            DeliveryAttempt::Table.into_iden(),
            Notification::Table.into_iden(),
            Escalation::Table.into_iden(),
            EscalationLevel::Table.into_iden(),
            EscalationPolicy::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(IncidentCommand::Table)
                    .drop_column(IncidentCommand::AcknowledgedAt)
                    .to_owned(),
            )
            .await
    }
}
