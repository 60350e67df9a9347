//! The domain's statuses as database values: stored as the text the tables' `CHECK (status IN
//! (…))` lists, read back into the enum. A word the enum does not know fails the query with its
//! value named (the CHECKs make that a bug, or a migration the code has not caught up with).

use diesel::deserialize::{self, FromSql, Queryable};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::domain::{BookingStatus, EmailStatus, PaymentStatus, SalesStatus, WaitlistStatus};

macro_rules! stored_as_text {
    ($($name:ty),+) => {$(
        impl ToSql<Text, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl FromSql<Text, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                Ok(<$name>::try_from(text)?)
            }
        }

        impl Queryable<Text, Pg> for $name {
            type Row = Self;

            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }

        impl AsExpression<Text> for $name {
            type Expression = <&'static str as AsExpression<Text>>::Expression;

            fn as_expression(self) -> Self::Expression {
                <&'static str as AsExpression<Text>>::as_expression(self.as_str())
            }
        }

        impl AsExpression<Text> for &$name {
            type Expression = <&'static str as AsExpression<Text>>::Expression;

            fn as_expression(self) -> Self::Expression {
                <&'static str as AsExpression<Text>>::as_expression(self.as_str())
            }
        }
    )+};
}

stored_as_text!(BookingStatus, SalesStatus, PaymentStatus, EmailStatus, WaitlistStatus);
