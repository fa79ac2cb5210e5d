package logschema

import "testing"

func TestTypesRenderAsHiveAndDuckDB(t *testing.T) {
	tests := []struct {
		typ          Type
		hive, duckdb string
	}{
		{String, "string", "VARCHAR"},
		{Int, "int", "INTEGER"},
		{BigInt, "bigint", "BIGINT"},
		{ArrayOf(Struct(Strings("arn", "type")...)), "array<struct<arn:string,type:string>>", `STRUCT("arn" VARCHAR, "type" VARCHAR)[]`},
		{Struct(Field{"a", Struct(Field{"m", MapOf(String, ArrayOf(Int))})}), "struct<a:struct<m:map<string,array<int>>>>", `STRUCT("a" STRUCT("m" MAP(VARCHAR, INTEGER[])))`},
		// As the Glue table had it before the types were typed.
		{userIdentity, "struct<type:string,principalid:string,arn:string,accountid:string,invokedby:string,accesskeyid:string,username:string,onbehalfof:struct<userid:string,identitystorearn:string>,sessioncontext:struct<attributes:struct<mfaauthenticated:string,creationdate:string>,sessionissuer:struct<type:string,principalid:string,arn:string,accountid:string,username:string>,ec2roledelivery:string,webidfederationdata:struct<federatedprovider:string,attributes:map<string,string>>,sourceidentity:string>>", ""},
	}
	for _, tt := range tests {
		if got := tt.typ.Hive(); got != tt.hive {
			t.Errorf("Hive() = %s, want %s", got, tt.hive)
		}
		if got := tt.typ.DuckDB(); tt.duckdb != "" && got != tt.duckdb {
			t.Errorf("DuckDB() = %s, want %s", got, tt.duckdb)
		}
	}
}

func TestEveryColumnHasAType(t *testing.T) {
	for _, table := range Tables() {
		for _, c := range table.AllColumns() {
			if c.Type.Hive() == "" || c.Type.DuckDB() == "" {
				t.Errorf("%s.%s has no type", table.Name, c.Name)
			}
		}
	}
}
