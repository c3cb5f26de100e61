//! A person holding a role in an organisation for a period.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assignment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub role_id: i64,
    pub person_id: i64,
    pub deputy_id: Option<i64>,
    pub work_phone: Option<String>,
    pub out_of_hours_phone: Option<String>,
    pub contact_email: Option<String>,
    pub starts_at: TimeDateTimeWithTimeZone,
    pub ends_at: Option<TimeDateTimeWithTimeZone>,
    pub confirmed_at: Option<TimeDateTimeWithTimeZone>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub created_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
