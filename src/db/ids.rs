//! The domain's typed ids as column values: `BIGINT` (or `UUID`) in, the newtype out.

use diesel::deserialize::{self, FromSql, Queryable};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{BigInt, Nullable, Uuid as SqlUuid};

use crate::domain::{AttendeeId, BookingId, CityEventId, CityId, PaymentId, VenueId};

macro_rules! stored_as {
    ($sql:ty, $inner:ty: $($name:ident),+) => {$(
        impl ToSql<$sql, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <$inner as ToSql<$sql, Pg>>::to_sql(&self.0, out)
            }
        }

        impl FromSql<$sql, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                Ok($name(<$inner as FromSql<$sql, Pg>>::from_sql(bytes)?))
            }
        }

        impl Queryable<$sql, Pg> for $name {
            type Row = Self;

            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }

        impl AsExpression<$sql> for $name {
            type Expression = <$inner as AsExpression<$sql>>::Expression;

            fn as_expression(self) -> Self::Expression {
                <$inner as AsExpression<$sql>>::as_expression(self.0)
            }
        }

        impl AsExpression<$sql> for &$name {
            type Expression = <$inner as AsExpression<$sql>>::Expression;

            fn as_expression(self) -> Self::Expression {
                <$inner as AsExpression<$sql>>::as_expression(self.0)
            }
        }

        impl AsExpression<Nullable<$sql>> for $name {
            type Expression = <$inner as AsExpression<Nullable<$sql>>>::Expression;

            fn as_expression(self) -> Self::Expression {
                <$inner as AsExpression<Nullable<$sql>>>::as_expression(self.0)
            }
        }

        impl AsExpression<Nullable<$sql>> for &$name {
            type Expression = <$inner as AsExpression<Nullable<$sql>>>::Expression;

            fn as_expression(self) -> Self::Expression {
                <$inner as AsExpression<Nullable<$sql>>>::as_expression(self.0)
            }
        }
    )+};
}

stored_as!(BigInt, i64: CityEventId, CityId, VenueId, AttendeeId, PaymentId);
stored_as!(SqlUuid, uuid::Uuid: BookingId);
