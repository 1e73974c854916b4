package appliance_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"gridbox/appliance"
)

// TestPerson_IDProperties: for random valid IDs, a member with only the ID
// number gets gender and birth date from it and validates; changing any one
// of its 18 characters, or entering a gender or birth date that disagrees,
// is refused with the field named.
func TestPerson_IDProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 11))
	for i := 0; i < 500; i++ {
		birth := time.Date(1900+rng.IntN(126), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		male := rng.IntN(2) == 0
		id := appliance.MakeCitizenID("410184", birth, rng.IntN(1000), male)
		p := appliance.Person{ID: "p1", Household: "h1", Name: "测试𠇔", Relation: "户主", Sensitive: &appliance.Sensitive{IDNumber: id}}
		p.Normalize()
		if err := p.Validate(); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if got, want := p.Birth, birth.Format("2006-01-02"); got != want {
			t.Fatalf("birth=%s, want %s", got, want)
		}
		if (p.Gender == "男") != male {
			t.Fatalf("%s: gender %s", id, p.Gender)
		}
		if p.Name != "测试𠇔" {
			t.Fatalf("name changed to %q", p.Name)
		}
		// One character changed anywhere: the check digit catches it.
		pos := rng.IntN(18)
		b := []byte(id)
		for b[pos] == id[pos] {
			b[pos] = "0123456789X"[rng.IntN(11)]
		}
		q := p
		q.Sensitive = &appliance.Sensitive{IDNumber: string(b)}
		if err := q.Validate(); err == nil {
			t.Fatalf("%s accepted (from %s)", b, id)
		} else if f := appliance.ErrorField(err); f != "id_number" && f != "gender" && f != "birth_date" {
			t.Fatalf("%s: field %s", b, f)
		}
		q = p
		q.Gender = map[bool]string{true: "女", false: "男"}[male]
		if appliance.ErrorField(q.Validate()) != "gender" {
			t.Fatalf("wrong gender accepted for %s", id)
		}
		q = p
		q.Birth = birth.AddDate(0, 0, 1).Format("2006-01-02")
		if appliance.ErrorField(q.Validate()) != "birth_date" {
			t.Fatalf("wrong birth date accepted for %s", id)
		}
	}
}

func TestNormalizeDates(t *testing.T) {
	for _, in := range []string{"1990-3-7", "1990/03/07", "1990.3.7", "19900307", "1990年3月7日"} {
		p := appliance.Person{Birth: in}
		p.Normalize()
		if p.Birth != "1990-03-07" {
			t.Fatalf("%q → %q", in, p.Birth)
		}
	}
}
