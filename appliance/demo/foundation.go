package demo

import (
	"context"
	"fmt"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

var (
	surnames    = []rune("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤单")
	maleGiven   = []string{"建国", "建军", "国强", "志强", "伟", "军", "磊", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "斌", "宇", "浩", "凯", "健", "俊", "帆", "振华", "德胜", "长青", "金山", "春生", "宏伟", "子豪", "一鸣", "天佑", "保国", "海军", "红旗", "卫东"}
	femaleGiven = []string{"秀英", "桂英", "秀兰", "玉兰", "桂兰", "秀珍", "凤英", "玉梅", "秀菊", "丽", "静", "敏", "艳", "娟", "霞", "芳", "燕", "红", "玲", "桂芳", "丹", "萍", "雪", "琳", "婷", "欣怡", "梓涵", "雨桐", "思琪", "佳怡", "春梅", "冬梅", "翠花", "金凤", "小红", "淑珍", "美兰", "素芬", "爱华", "月娥"}
	groupNames  = []string{"第一村民组", "第二村民组", "第三村民组", "第四村民组", "第五村民组", "第六村民组", "第七村民组", "第八村民组"}
)

// Name draws a Chinese name.
func (v *Village) Name(male bool) string {
	s := string(surnames[v.Rand.IntN(len(surnames))])
	if male {
		return s + maleGiven[v.Rand.IntN(len(maleGiven))]
	}
	return s + femaleGiven[v.Rand.IntN(len(femaleGiven))]
}

// Mobile draws a mobile number.
func (v *Village) Mobile() string {
	prefixes := []string{"135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "176", "177", "185", "186", "187", "188", "189", "199"}
	return prefixes[v.Rand.IntN(len(prefixes))] + fmt.Sprintf("%08d", v.Rand.IntN(100000000))
}

func (v *Village) foundation(ctx context.Context, opts Options) ([]bolt.DemoAccount, error) {
	s := v.Store
	for i, name := range groupNames {
		g := appliance.Grid{Code: appliance.GroupCode(v.Code, i+1), Level: appliance.LevelGroup, Name: name, Parent: v.Code, Kind: "村组"}
		if err := s.SetGrid(ctx, "u-admin", g); err != nil {
			return nil, err
		}
		v.Groups = append(v.Groups, g)
	}
	add := func(m appliance.StaffMember) error {
		m.Phone = v.Mobile()
		if err := s.SetStaff(ctx, "u-admin", m); err != nil {
			return err
		}
		v.Staff = append(v.Staff, m)
		return nil
	}
	n := 0
	id := func() string { n++; return fmt.Sprintf("%s-s%02d", v.Code, n) }
	village := []appliance.StaffMember{
		{Duty: appliance.DutyFirstResponsible, Title: "村党支部书记"},
		{Duty: appliance.DutyFirstResponsible, Title: "村委会主任"},
		{Duty: appliance.DutyCommittee, Title: "村务监督委员会主任"},
		{Duty: appliance.DutyCommittee, Title: "村委委员（妇女主任）"},
		{Duty: appliance.DutyMassWorkTeam, Title: "群众工作队队长（镇派）"},
		{Duty: appliance.DutyMassWorkTeam, Title: "群众工作队队员（镇派）"},
		{Duty: appliance.DutyDutyStaff, Title: "值班员"},
		{Duty: appliance.DutyDutyStaff, Title: "值班员"},
	}
	for i, m := range village {
		m.ID, m.Grid, m.Name = id(), v.Code, v.Name(i != 3 && i%3 != 2)
		if err := add(m); err != nil {
			return nil, err
		}
	}
	for _, g := range v.Groups {
		if err := add(appliance.StaffMember{ID: id(), Grid: g.Code, Duty: appliance.DutyGridLeader, Title: "组长", Name: v.Name(v.Rand.IntN(4) > 0)}); err != nil {
			return nil, err
		}
		for w := 0; w < 1+v.Rand.IntN(2); w++ {
			if err := add(appliance.StaffMember{ID: id(), Grid: g.Code, Duty: appliance.DutyGridWorker, Name: v.Name(v.Rand.IntN(2) == 0)}); err != nil {
				return nil, err
			}
		}
	}
	// One account per role. The grid leader's is the leader of group 1.
	type acct struct {
		username string
		role     appliance.Role
		grid     string
		staff    *appliance.StaffMember
		dept     string
	}
	leader1 := v.Leader(v.Groups[0].Code)
	accts := []acct{
		{"duty", appliance.RoleDutyStaff, v.Code, &v.Staff[6], ""},
		{"leader", appliance.RoleGridLeader, v.Groups[0].Code, &leader1, ""},
		{"lead", appliance.RoleVillageLead, v.Code, &v.Staff[0], ""},
		{"town", appliance.RoleTownOperator, v.Code[:9] + "000", nil, ""},
		{"dept", appliance.RoleDepartment, v.Code[:9] + "000", nil, "镇自然资源所"},
		{"city", appliance.RoleCityOperator, v.Code[:4] + "00000000", nil, ""},
		{"inspector", appliance.RoleInspector, v.Code[:9] + "000", nil, ""},
	}
	accounts := []bolt.DemoAccount{{Username: "admin", RoleLabel: appliance.RoleAdmin.Label(), Password: Password}}
	for _, a := range accts {
		name := v.Name(v.Rand.IntN(2) == 0)
		if a.staff != nil {
			name = a.staff.Name
		}
		u := appliance.User{ID: "u-" + a.username, Username: a.username, Name: name, Role: a.role, Grid: a.grid, Department: a.dept}
		if err := s.CreateUser(ctx, "u-admin", u, Password, false); err != nil {
			return nil, err
		}
		if a.staff != nil {
			m := *a.staff
			m.UserID = u.ID
			if err := s.SetStaff(ctx, "u-admin", m); err != nil {
				return nil, err
			}
		}
		v.Users[a.role] = u
		accounts = append(accounts, bolt.DemoAccount{Username: a.username, RoleLabel: a.role.Label(), Password: Password})
	}
	// Duty roster: the past month and the coming two weeks, one person a day,
	// cadres leading in turn.
	var onDuty []appliance.StaffMember
	for _, m := range v.Staff {
		if m.Grid == v.Code {
			onDuty = append(onDuty, m)
		}
	}
	leads := []string{v.Staff[0].Name, v.Staff[1].Name}
	for d, i := v.Start, 0; d.Before(v.End.AddDate(0, 0, 15)); d, i = d.AddDate(0, 0, 1), i+1 {
		m := onDuty[i%len(onDuty)]
		shift := appliance.DutyShift{Grid: v.Code, Date: d.Format("2006-01-02"), Shift: "全天", StaffID: m.ID, Name: m.Name, Phone: m.Phone, Lead: leads[i%2]}
		if err := s.SetDuty(ctx, "u-lead", shift); err != nil {
			return nil, err
		}
	}
	type notice struct {
		appliance.Notice
		days int
	}
	notices := []notice{
		{Notice: appliance.Notice{Title: "关于开展2027年度城乡居民医保集中缴费的通知", Body: "各位村民：\n2027年度城乡居民医疗保险集中缴费工作已经开始，个人缴费标准为每人每年400元，截止日期为12月31日。\n可以到村值班室由网格员代办，也可以用手机自行缴费。行动不便的老人可以打值班电话，网格员上门服务。", Pinned: true}, days: 20},
		{Notice: appliance.Notice{Title: "冬季森林防火和用电安全提醒", Body: "冬季天干物燥，严禁在林区、田间焚烧秸秆和垃圾。\n取暖时注意用电安全，不私拉乱接电线，不使用大功率电器。发现火情请立即拨打119，并告知村值班室。"}, days: 10},
		{Notice: appliance.Notice{Title: "村务公开：第四季度低保评议结果公示", Body: "经村民代表评议，现将第四季度低保评议结果在村公开栏张贴公示，公示期7天。\n如有异议，请到村值班室或拨打值班电话反映。"}, days: 4},
	}
	for i, n := range notices {
		n.Grid, n.ID, n.Published = v.Code, fmt.Sprintf("n-demo-%d", i+1), v.End.AddDate(0, 0, -n.days).Format("2006-01-02")
		if err := s.SetNotice(ctx, "u-lead", n.Notice); err != nil {
			return nil, err
		}
	}
	return accounts, nil
}
